package prewarm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

// MirrorFunc mirrors the release to the regional registries and returns its
// report and error. It calls ready once per region as soon as that region
// holds the release (err nil) or cannot be reached (err names the region,
// e.g. "region eu unreachable: ..."); a region it never reports is ready
// when it returns. Nightly passes registry.Mirror with
// registry.WithRegionDone wrapped in this; tests pass their own.
type MirrorFunc func(ctx context.Context, ready func(region string, err error)) (*registry.Report, error)

// Report is `prewarm run`: the mirror step, then the pull.
type Report struct {
	Started       time.Time        `json:"started"`
	Seconds       float64          `json:"seconds"`
	MirrorSeconds float64          `json:"mirrorSeconds"`
	Mirror        *registry.Report `json:"mirror,omitempty"`
	MirrorError   string           `json:"mirrorError,omitempty"`
	Pull          *fleet.Report    `json:"pull,omitempty"`
	// NotReady names the hosts that are not ready (sorted).
	NotReady []string `json:"notReady"`
	// Outside are the hosts that will download foreign layers from the
	// vendor's URLs, as prewarm plan lists them (Nightly fills it).
	Outside []OutsideFetch `json:"outsideFetches,omitempty"`
	// Error is why the run stopped before mirroring or pulling anything
	// (a bad inventory, release or lock, the source unreachable); see
	// FailedRun.
	Error string `json:"error,omitempty"`
}

// FailedRun is the report of a run that stopped before it mirrored or
// pulled anything, so that the nightly job's report and metrics say so
// instead of keeping the last good run's numbers.
func FailedRun(started time.Time, err error) *Report {
	return &Report{Started: started, Seconds: time.Since(started).Seconds(), Error: err.Error(), NotReady: []string{}}
}

// OK reports whether the run did all it had to: it started, the mirror
// succeeded and every host is ready.
func (rr *Report) OK() bool {
	return rr.Error == "" && rr.MirrorError == "" && len(rr.NotReady) == 0
}

// Run mirrors (when mirror is not nil) and pulls lock onto hosts, each
// region on its own: a region's hosts start pulling as soon as the mirror
// reports that region ready, and the hosts of a region it reports
// unreachable are not ready (that error, no pull attempted) at once. A
// mirror failure does not stop the pull: regions the mirror did reach
// still get their hosts ready, and hosts whose region lacks an image fail
// with ErrNotInRegion. The error joins the mirror's and the pull's.
func Run(ctx context.Context, hosts []fleet.Target, lock *inventory.Lock, mirror MirrorFunc, opts ...fleet.Option) (*Report, error) {
	if err := fleet.CheckOptions(opts...); err != nil {
		return nil, err
	}
	rr := &Report{Started: time.Now()}
	if mirror == nil {
		rep, perr := fleet.Pull(ctx, hosts, lock, opts...)
		return rr.finish(rep), perr
	}
	g := newGates(hosts)
	var merr error
	mirrored := make(chan struct{})
	go func() {
		defer close(mirrored)
		rr.Mirror, merr = mirror(ctx, g.open)
		rr.MirrorSeconds = time.Since(rr.Started).Seconds()
		g.openAll()
	}()
	rep, perr := fleet.Pull(ctx, hosts, lock, append(slices.Clone(opts), fleet.WithRegionGate(g.wait))...)
	<-mirrored
	if merr != nil {
		rr.MirrorError = merr.Error()
		merr = fmt.Errorf("mirror: %w", merr)
	}
	return rr.finish(rep), errors.Join(merr, perr)
}

func (rr *Report) finish(rep *fleet.Report) *Report {
	rr.Pull = rep
	if rep != nil {
		rr.NotReady = rep.Failed()
	}
	rr.Seconds = time.Since(rr.Started).Seconds()
	return rr
}

// gates are the regions' readiness as the mirror reports it.
type gates struct {
	mu sync.Mutex
	by map[string]*gate
}

type gate struct {
	once sync.Once
	done chan struct{}
	err  error
}

func newGates(hosts []fleet.Target) *gates {
	g := &gates{by: map[string]*gate{}}
	for _, h := range hosts {
		if g.by[h.Region] == nil {
			g.by[h.Region] = &gate{done: make(chan struct{})}
		}
	}
	return g
}

func (g *gates) open(region string, err error) {
	g.mu.Lock()
	gt := g.by[region]
	g.mu.Unlock()
	if gt != nil {
		gt.once.Do(func() { gt.err = err; close(gt.done) })
	}
}

func (g *gates) openAll() {
	g.mu.Lock()
	regions := slices.Collect(maps.Keys(g.by))
	g.mu.Unlock()
	for _, r := range regions {
		g.open(r, nil)
	}
}

func (g *gates) wait(ctx context.Context, region string) error {
	g.mu.Lock()
	gt := g.by[region]
	g.mu.Unlock()
	if gt == nil {
		return nil
	}
	select {
	case <-gt.done:
		return gt.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
