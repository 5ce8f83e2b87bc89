package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/drover-dev/drover/inventory"
)

// Pull puts every image of lock onto every host, each from the host's
// region registry by digest, verified and tagged with the deploy reference.
// Hosts that already hold an image cost one inspect call for it.
//
// The Report covers every host, failed or not; the error is errors.Join of
// one *HostError per failed host and image (nil when all hosts are ready),
// or an options error before anything started.
func Pull(ctx context.Context, hosts []Target, lock *inventory.Lock, opts ...Option) (*Report, error) {
	if lock == nil || len(lock.Images) == 0 {
		return nil, errors.New("pull: the lock names no images")
	}
	return pullWants(ctx, hosts, func(t Target) []Want { return WantsFor(t, lock) }, opts)
}

// PullWants is Pull for explicit wants per host (Seed uses it).
func PullWants(ctx context.Context, hosts []Target, wants func(Target) []Want, opts ...Option) (*Report, error) {
	return pullWants(ctx, hosts, wants, opts)
}

func pullWants(ctx context.Context, hosts []Target, wants func(Target) []Want, opts []Option) (*Report, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	p := &puller{o: o, sems: map[string]*semaphore.Weighted{}}
	rep := &Report{Started: o.now(), Hosts: make([]HostReport, len(hosts))}
	errs := make([][]error, len(hosts))
	if o.gate != nil {
		p.gated(ctx, hosts, wants, rep, errs)
	} else {
		var g errgroup.Group
		g.SetLimit(o.concurrency)
		for i, h := range hosts {
			g.Go(func() error {
				rep.Hosts[i], errs[i] = p.host(ctx, h, wants(h))
				return nil
			})
		}
		_ = g.Wait() // host goroutines report through rep and errs
	}
	rep.Seconds = o.now().Sub(rep.Started).Seconds()
	var all []error
	for _, e := range errs {
		all = append(all, e...)
	}
	return rep, errors.Join(all...)
}

// gated works on each host once its region's gate opens; a host waiting
// for its region holds no concurrency slot.
func (p *puller) gated(ctx context.Context, hosts []Target, wants func(Target) []Want, rep *Report, errs [][]error) {
	sem := semaphore.NewWeighted(int64(p.o.concurrency))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			if err := p.o.gate(ctx, h.Region); err != nil && ctx.Err() == nil {
				rep.Hosts[i], errs[i] = p.skip(h, wants(h), err)
				return
			}
			if sem.Acquire(ctx, 1) == nil {
				defer sem.Release(1)
			}
			rep.Hosts[i], errs[i] = p.host(ctx, h, wants(h))
		})
	}
	wg.Wait()
}

// skip reports host t not ready because its region failed: no calls.
func (p *puller) skip(t Target, wants []Want, err error) (HostReport, []error) {
	hr := HostReport{Target: t, Images: make([]ImageReport, 0, len(wants)), Error: err.Error()}
	for _, w := range wants {
		hr.Images = append(hr.Images, ImageReport{Name: w.Name, Ref: w.Ref, Digest: w.Digest, Action: ActionFailed, Error: "not attempted: " + err.Error()})
		p.emit(Progress{Host: t.Name, Image: w.Name, Phase: "failed", Err: err.Error()})
	}
	p.o.logger.Warn("host not ready", "host", t.Name, "env", t.Env, "err", hr.Error)
	return hr, []error{&HostError{Host: t.Name, Env: t.Env, Err: err}}
}

// puller holds what hosts share during one run: the per-registry slots.
type puller struct {
	o    *options
	mu   sync.Mutex
	sems map[string]*semaphore.Weighted
}

func (p *puller) slot(registry string) *semaphore.Weighted {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sems[registry]
	if !ok {
		s = semaphore.NewWeighted(int64(p.o.limitFor(registry)))
		p.sems[registry] = s
	}
	return s
}

func (p *puller) emit(ev Progress) {
	if p.o.progress != nil {
		p.o.progress(ev)
	}
}

// host works through one host's images in order. After the host proves
// unreachable, the rest of its images are reported failed without calls.
func (p *puller) host(ctx context.Context, t Target, wants []Want) (HostReport, []error) {
	start := p.o.now()
	hr := HostReport{Target: t, Images: make([]ImageReport, 0, len(wants))}
	fail := func(errs []error) (HostReport, []error) {
		hr.Error = errors.Join(errs...).Error()
		hr.Seconds = p.o.now().Sub(start).Seconds()
		if !hr.Interrupted {
			p.o.logger.Warn("host not ready", "host", t.Name, "env", t.Env, "err", hr.Error)
		}
		return hr, errs
	}
	if ctx.Err() != nil { // cancelled before this host's turn: no calls
		hr.Interrupted = true
		err := fmt.Errorf("%w (not attempted): %w", ErrInterrupted, context.Cause(ctx))
		for _, w := range wants {
			hr.Images = append(hr.Images, ImageReport{Name: w.Name, Ref: w.Ref, Digest: w.Digest, Action: ActionFailed, Error: err.Error()})
		}
		return fail([]error{&HostError{Host: t.Name, Env: t.Env, Err: err}})
	}
	if t.NotActive != nil { // never dialled; each image fails as on an unreachable host
		return p.skip(t, wants, t.NotActive)
	}
	eng, err := p.o.dial(ctx, t)
	if err != nil {
		return fail([]error{&HostError{Host: t.Name, Env: t.Env, Err: fmt.Errorf("%w: %w", ErrUnreachable, err)}})
	}
	defer eng.Close()
	var errs []error
	var gone error
	pl, perr := p.platform(ctx, eng, t) // once per host and run
	hr.Platform = pl.String()
	for i, w := range wants {
		if gone != nil {
			hr.Images = append(hr.Images, ImageReport{Name: w.Name, Ref: w.Ref, Digest: w.Digest, Action: ActionFailed, Error: "not attempted: " + gone.Error()})
			continue
		}
		ir, err := ImageReport{Name: w.Name, Ref: w.Ref, Digest: w.Digest, Action: ActionFailed}, perr
		if i == 0 && perr != nil { // unreachable or interrupted: reported as the first image's failure
			ir.Error = perr.Error()
		} else {
			ti := t
			ti.Disk = t.Disk.less(hr.Bytes) // this run's pulls took some of it
			ir, err = p.image(ctx, eng, ti, pl, w)
		}
		hr.Images = append(hr.Images, ir)
		hr.Bytes += ir.Bytes
		if err != nil {
			errs = append(errs, &HostError{Host: t.Name, Env: t.Env, Image: w.Name, Err: err})
			if errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
				gone = err
			}
		}
	}
	if len(errs) > 0 {
		hr.Interrupted = !slices.ContainsFunc(errs, func(err error) bool { return !errors.Is(err, ErrInterrupted) })
		return fail(errs)
	}
	hr.Ready = true
	hr.Seconds = p.o.now().Sub(start).Seconds()
	return hr, nil
}
