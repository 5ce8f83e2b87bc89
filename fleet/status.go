package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"golang.org/x/sync/errgroup"

	"github.com/drover-dev/drover/inventory"
)

// State is whether a host holds an image.
type State string

// States of a presence Cell.
const (
	StatePresent     State = "present"      // deploy ref exists and carries the digest
	StateMissing     State = "missing"      // deploy ref does not exist
	StateWrongDigest State = "wrong-digest" // deploy ref exists with another digest
	StateUnreachable State = "unreachable"  // the host did not answer
	// StateNoPlatform: the image's index has no entry for the host's
	// platform (for Windows, its build); Error says what it has.
	StateNoPlatform State = "no-platform"
	// StateWrongPlatform: the deploy ref carries the digest, but the image
	// the daemon holds is of another Windows build than the host's entry.
	StateWrongPlatform State = "wrong-platform"
)

// Cell is one host x image of the presence matrix.
type Cell struct {
	Image string `json:"image"`
	Ref   string `json:"ref"`
	State State  `json:"state"`
	// Want is the digest expected; Got the digests the deploy ref carries
	// (set for wrong-digest).
	Want  string   `json:"want,omitempty"`
	Got   []string `json:"got,omitempty"`
	Error string   `json:"error,omitempty"`
	// Platform is the index entry checked for the host ("windows/amd64
	// 10.0.17763.6054"); "" for a single-platform image.
	Platform string `json:"platform,omitempty"`

	entry inventory.LockManifest
	err   error
}

// Err is the cell's error: ErrUnreachable, or a *PlatformError for
// no-platform; nil otherwise.
func (c Cell) Err() error { return c.err }

// check decides presence for a host of platform pl: the index entry the
// host runs (Choose; none is StateNoPlatform, without a call), then the one
// inspect call.
func (p *puller) check(ctx context.Context, eng Engine, t Target, pl Platform, w Want) Cell {
	c := Cell{Image: w.Name, Ref: w.Ref, Want: w.Digest}
	entry, ok := Choose(pl, w.Entries)
	if !ok {
		c.State = StateNoPlatform
		c.err = &PlatformError{Host: t.Name, Env: t.Env, Image: w.short(), Platform: pl, Have: w.Entries}
		c.Error = c.err.Error()
		return c
	}
	c.entry, c.Platform = entry, entry.String()
	cctx, cancel := context.WithTimeout(ctx, p.o.timeout)
	defer cancel()
	res, err := eng.ImageInspect(cctx, w.Ref)
	switch {
	case err == nil:
	case cerrdefs.IsNotFound(err):
		c.State = StateMissing
		return c
	default:
		c.err = fmt.Errorf("inspect %s: %w", w.Ref, p.callErr(ctx, cctx, err))
		if !errors.Is(c.err, ErrUnreachable) && !errors.Is(c.err, ErrInterrupted) {
			c.err = fmt.Errorf("%w: %w", ErrUnreachable, c.err)
		}
		c.State = StateUnreachable
		c.Error = c.err.Error()
		return c
	}
	if w.Digest == "" || hasDigest(res.RepoDigests, w.Repository, w.Digest) {
		c.State = StatePresent
		if want, got := Build(entry.OSVersion), Build(res.OsVersion); want != "" && got != "" && want != got {
			c.State = StateWrongPlatform
			c.Error = fmt.Sprintf("%s holds a windows %s image, the host needs %s", w.Ref, res.OsVersion, entry.OSVersion)
		}
		return c
	}
	c.State = StateWrongDigest
	c.Got = res.RepoDigests
	return c
}

// Check inspects each image's deploy reference on host, one call per
// image, and changes nothing. It is the presence check rollout's gate
// uses: an image is present when its deploy ref exists and its RepoDigests
// hold <repository>@<digest>. After the host proves unreachable, the rest
// are reported unreachable without calls. The error is non-nil only for
// bad options.
func Check(ctx context.Context, host Target, images []inventory.LockImage, opts ...Option) ([]Cell, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	wants := make([]Want, 0, len(images))
	for _, im := range images {
		wants = append(wants, LockWant(host.Registry, im))
	}
	cells, _ := (&puller{o: o}).checkHost(ctx, host, wants)
	return cells, nil
}

// checkHost checks wants on host; it returns the cells and the host's
// platform.
func (p *puller) checkHost(ctx context.Context, host Target, wants []Want) ([]Cell, Platform) {
	cells := make([]Cell, 0, len(wants))
	eng, err := p.o.dial(ctx, host)
	if err != nil {
		var cerr error // a host Rancher says is not active: ErrUnreachable
		if host.NotActive != nil {
			cerr = err
		}
		for _, w := range wants {
			cells = append(cells, Cell{Image: w.Name, Ref: w.Ref, Want: w.Digest, State: StateUnreachable, Error: err.Error(), err: cerr})
		}
		return cells, Platform{}
	}
	defer eng.Close()
	var gone string
	pl, err := p.platform(ctx, eng, host)
	if err != nil { // unreachable or interrupted
		gone = err.Error()
	}
	for _, w := range wants {
		if gone != "" {
			cells = append(cells, Cell{Image: w.Name, Ref: w.Ref, Want: w.Digest, State: StateUnreachable, Error: gone})
			continue
		}
		c := p.check(ctx, eng, host, pl, w)
		if c.State == StateUnreachable {
			gone = c.Error
		}
		cells = append(cells, c)
	}
	return cells, pl
}

// Matrix is hosts x images.
type Matrix struct {
	Images []string  `json:"images"`
	Hosts  []HostRow `json:"hosts"`
}

// HostRow is one host's cells, in the order of Matrix.Images.
type HostRow struct {
	Target
	// Platform is the host's, as its daemon reported it ("" when unknown).
	Platform string `json:"platform,omitempty"`
	Cells    []Cell `json:"cells"`
}

// AllPresent reports whether every host holds every image.
func (m *Matrix) AllPresent() bool {
	for _, h := range m.Hosts {
		for _, c := range h.Cells {
			if c.State != StatePresent {
				return false
			}
		}
	}
	return true
}

// NotReady names hosts missing at least one image, in matrix order.
func (m *Matrix) NotReady() []string {
	var out []string
	for _, h := range m.Hosts {
		if slices.ContainsFunc(h.Cells, func(c Cell) bool { return c.State != StatePresent }) {
			out = append(out, h.Name)
		}
	}
	return out
}

// Status builds the presence matrix for lock over hosts, concurrently
// (WithConcurrency) with one inspect per host and image. It changes
// nothing; the error is non-nil only for bad options or an empty lock.
func Status(ctx context.Context, hosts []Target, lock *inventory.Lock, opts ...Option) (*Matrix, error) {
	if lock == nil || len(lock.Images) == 0 {
		return nil, errors.New("status: the lock names no images")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	p := &puller{o: o}
	m := &Matrix{Hosts: make([]HostRow, len(hosts))}
	for _, im := range lock.Images {
		m.Images = append(m.Images, im.Name)
	}
	var g errgroup.Group
	g.SetLimit(o.concurrency)
	for i, h := range hosts {
		g.Go(func() error {
			cells, pl := p.checkHost(ctx, h, WantsFor(h, lock))
			m.Hosts[i] = HostRow{Target: h, Platform: pl.String(), Cells: cells}
			return nil
		})
	}
	_ = g.Wait()
	return m, nil
}
