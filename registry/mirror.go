package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/errgroup"

	"github.com/drover-dev/drover/inventory"
)

// Mirror copies every image of lock from source to every region, so that
// each region holds exactly the locked digest. It keeps going when an image
// or region fails; the report names every failure and the error joins them
// (nil when everything is in place). The report is never nil unless the
// options are invalid.
func Mirror(ctx context.Context, lock *inventory.Lock, source inventory.Registry, regions map[string]inventory.Registry, opts ...Option) (*Report, error) {
	r, err := start(ctx, lock, source, regions, opts)
	if err != nil {
		return nil, err
	}
	defer r.o.done()
	r.check(ctx)
	r.pushReady(ctx)
	r.transfer(ctx)
	r.push(ctx)
	return r.report()
}

// ErrRegionUnreachable is wrapped by the errors of a region that did not
// answer within the stall timeout (or refused every attempt): its images
// fail at once, without waiting on it again.
var ErrRegionUnreachable = errors.New("region unreachable")

// RegionError is a region that could not be reached.
type RegionError struct {
	Region string
	Err    error
}

func (e *RegionError) Error() string { return "region " + e.Region + " unreachable: " + e.Err.Error() }

// Unwrap returns ErrRegionUnreachable and the cause.
func (e *RegionError) Unwrap() []error { return []error{ErrRegionUnreachable, e.Err} }

// WithRegionDone sets a callback that Mirror calls once per region, as soon
// as the region holds every image (err nil) or has failed (err is its first
// failure; errors.Is(err, ErrRegionUnreachable) when it did not answer).
// Regions settle independently: one that already holds the release is
// reported before the others have been checked. Calls may come from
// several goroutines at once. The default is no callback.
func WithRegionDone(f func(region string, err error)) Option {
	return func(o *options) error { o.regionDone = f; return nil }
}

// Reachable checks that a region's registry answers (the ping and token
// exchange a mirror starts with) within the stall timeout, every attempt
// together. Its error is a *RegionError unless the credentials were
// refused (ErrAuth).
func Reachable(ctx context.Context, region string, reg inventory.Registry, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	defer o.done()
	cctx, cancel := context.WithTimeout(ctx, o.stall)
	defer cancel()
	if _, err := newClient(cctx, "region "+region, reg, nil, o); err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrAuth) {
			return err
		}
		if errors.Is(cctx.Err(), context.DeadlineExceeded) && !strings.Contains(err.Error(), "no answer within") {
			err = fmt.Errorf("no answer within %v: %w", o.stall, err)
		}
		return &RegionError{Region: region, Err: err}
	}
	return nil
}

// Plan lists, per region, the images and blobs Mirror would move. It makes
// only HEAD and GET requests.
func Plan(ctx context.Context, lock *inventory.Lock, source inventory.Registry, regions map[string]inventory.Registry, opts ...Option) (*PlanReport, error) {
	r, err := start(ctx, lock, source, regions, opts)
	if err != nil {
		return nil, err
	}
	defer r.o.done()
	r.check(ctx)
	return r.plan()
}

// run is one Mirror or Plan call.
type run struct {
	o       *options
	lock    *inventory.Lock
	started time.Time
	src     *client // set by the first loadImage
	srcOnce func() (*client, error)
	regions []string // sorted
	// foreign: regions that copy foreign layers (WithNondistributable, or
	// their inventory entry's foreignLayers: mirror).
	foreign map[string]bool
	dst     map[string]*client
	images  []*image // nil where the source was not needed or failed
	states  [][]*state
	dstOnce map[string]func() (*client, error)
	left    []int   // per region: images not yet settled
	first   []error // per region: first failure

	mu    sync.Mutex
	known map[[2]string]string // {region, digest} -> repository holding it
	held  map[string][]string  // region -> repositories with an image already there
	jobs  map[string]*blobJob  // digest -> job

	waiters   map[*target][][2]int // target -> {image, region} states waiting for it
	pushes    sync.WaitGroup
	pushSlots chan struct{} // bounds the pushes running at once

	sourceBytes atomic.Int64
	prog        progress
	chunks      sync.Pool // *chunk, shared by every fan-out of the run
}

// state is one image in one region.
type state struct {
	res       Result
	err       error
	present   bool
	settled   bool
	pushing   bool        // its push has started (under run.mu)
	pending   int         // targets not transferred yet (under run.mu)
	manifests []*manifest // to push, in order
	targets   []*target   // blobs this image needs in this region
}

func (s *state) fail(err error) {
	if s.err == nil && err != nil {
		s.err = err
	}
}

func start(ctx context.Context, lock *inventory.Lock, source inventory.Registry, regions map[string]inventory.Registry, opts []Option) (*run, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if lock == nil || len(regions) == 0 {
		return nil, errors.New("mirror: need a lock and at least one region")
	}
	r := &run{o: o, lock: lock, started: time.Now(), dst: map[string]*client{},
		known: map[[2]string]string{}, held: map[string][]string{}, jobs: map[string]*blobJob{},
		pushSlots: make(chan struct{}, o.jobs)}
	r.prog.init(o.progress)
	r.chunks.New = func() any { return &chunk{buf: make([]byte, o.chunk), pool: &r.chunks} }
	r.regions = slices.Sorted(maps.Keys(regions))
	r.foreign = map[string]bool{}
	for name, reg := range regions {
		r.foreign[name] = o.foreign || reg.Mirrors()
	}
	var pull, push []string
	for _, li := range lock.Images {
		pull = append(pull, scope(li.Repository, transport.PullScope))
		push = append(push, scope(li.Repository, transport.PushScope))
	}
	pull, push = dedupe(pull), dedupe(push)
	r.images = make([]*image, len(lock.Images))
	r.states = make([][]*state, len(lock.Images))
	for i, li := range lock.Images {
		for _, reg := range r.regions {
			r.states[i] = append(r.states[i], &state{res: Result{Image: li.Name, Repository: li.Repository,
				Region: reg, Digest: li.Digest}})
		}
	}
	r.left, r.first = make([]int, len(r.regions)), make([]error, len(r.regions))
	for ri := range r.regions {
		r.left[ri] = len(lock.Images)
	}
	// Clients are made on first use, each region on its own: a region that
	// cannot be reached fails its images, not the run, and does not hold
	// the others back. Its connection (every ping attempt together) is
	// bounded by the stall timeout.
	r.srcOnce = sync.OnceValues(func() (*client, error) { return newClient(ctx, "source", source, pull, o) })
	r.dstOnce = map[string]func() (*client, error){}
	for ri, reg := range r.regions {
		r.dstOnce[reg] = sync.OnceValues(func() (*client, error) {
			cctx, cancel := context.WithTimeout(ctx, o.stall)
			defer cancel()
			c, err := newClient(cctx, "region "+reg, regions[reg], push, o)
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, ErrAuth) {
					if errors.Is(cctx.Err(), context.DeadlineExceeded) && !strings.Contains(err.Error(), "no answer within") {
						err = fmt.Errorf("no answer within %v: %w", o.stall, err)
					}
					err = &RegionError{Region: reg, Err: err}
				}
				r.failRegion(ri, err)
				return nil, err
			}
			r.mu.Lock()
			r.dst[reg] = c
			r.mu.Unlock()
			return c, nil
		})
	}
	return r, nil
}

// check HEADs each image's top manifest in every region, and for the images
// some region lacks, loads them from the source and HEADs their child
// manifests and blobs there.
func (r *run) check(ctx context.Context) {
	var g errgroup.Group
	g.SetLimit(r.o.jobs)
	for i := range r.lock.Images {
		g.Go(func() error {
			r.checkImage(ctx, i)
			return nil
		})
	}
	_ = g.Wait()
}

func (r *run) checkImage(ctx context.Context, i int) {
	li := r.lock.Images[i]
	var g errgroup.Group
	for ri, reg := range r.regions {
		st := r.states[i][ri]
		if r.failed(st) {
			continue
		}
		g.Go(func() error {
			c, err := r.dstOnce[reg]()
			if err != nil {
				return nil // failRegion settled the region
			}
			// The check is bounded as a whole: a region that stops
			// answering is cut once, not once per retry.
			hctx, cancel := context.WithTimeout(ctx, r.o.stall)
			ok, err := c.headManifest(hctx, li.Repository, li.Digest)
			stalled := errors.Is(hctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
			cancel()
			if err != nil && stalled {
				r.failRegion(ri, &RegionError{Region: reg, Err: fmt.Errorf("no answer within %v: %w", r.o.stall, err)})
				return nil
			}
			r.mu.Lock()
			st.fail(err)
			st.present = ok
			if ok {
				r.held[reg] = append(r.held[reg], li.Repository)
			}
			r.mu.Unlock()
			// A region that copies foreign layers settles once they are
			// checked too: it may hold the image from before it did.
			if (ok && !r.foreign[reg]) || err != nil {
				r.settle(i, ri)
			}
			return nil
		})
	}
	_ = g.Wait()
	need := false
	for ri, st := range r.states[i] {
		need = need || (!r.failed(st) && (!st.present || r.foreign[r.regions[ri]]))
	}
	if !need {
		return
	}
	im, err := r.loadImage(ctx, li)
	if err != nil {
		for ri, st := range r.states[i] {
			r.mu.Lock()
			if !st.present {
				st.fail(err)
			}
			r.mu.Unlock()
			r.settle(i, ri)
		}
		return
	}
	r.images[i] = im
	for ri, reg := range r.regions {
		st := r.states[i][ri]
		if r.failed(st) || (st.present && !r.foreign[reg]) {
			continue
		}
		g.Go(func() error {
			if st.present {
				if whole, err := r.foreignPresent(ctx, im, reg); err != nil || whole {
					r.mu.Lock()
					st.fail(err)
					r.mu.Unlock()
					r.settle(i, ri)
					return nil
				}
				r.mu.Lock()
				st.present = false // its foreign layers are copied, its manifest pushed again
				r.mu.Unlock()
			}
			if err := r.checkRegion(ctx, i, im, reg, st); err != nil {
				r.mu.Lock()
				st.fail(err)
				r.mu.Unlock()
				r.settle(i, ri)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// failed reports whether st has failed (under r.mu).
func (r *run) failed(st *state) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return st.err != nil
}

// failRegion fails every image of region ri that has not settled yet and
// settles them.
func (r *run) failRegion(ri int, err error) {
	for i := range r.states {
		r.mu.Lock()
		if st := r.states[i][ri]; !st.settled {
			st.fail(err)
		}
		r.mu.Unlock()
		r.settle(i, ri)
	}
}

// settle records that image i is final in region ri (present, pushed or
// failed); the region's last image reports the region done. Settling twice
// is harmless.
func (r *run) settle(i, ri int) {
	r.mu.Lock()
	st := r.states[i][ri]
	if st.settled {
		r.mu.Unlock()
		return
	}
	st.settled = true
	if st.err != nil && r.first[ri] == nil {
		r.first[ri] = st.err
	}
	r.left[ri]--
	last, err := r.left[ri] == 0, r.first[ri]
	r.mu.Unlock()
	if last && r.o.regionDone != nil {
		r.o.regionDone(r.regions[ri], err)
	}
}

// client is region reg's client, once connected.
func (r *run) client(reg string) *client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dst[reg]
}

func (r *run) loadImage(ctx context.Context, li inventory.LockImage) (*image, error) {
	src, err := r.srcOnce() // the source is contacted only when a region lacks something
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.src = src
	r.mu.Unlock()
	return loadImage(ctx, src, li)
}

// checkRegion finds what image im lacks in region reg: child manifests and
// blobs, registering each missing blob as a transfer target.
func (r *run) checkRegion(ctx context.Context, i int, im *image, reg string, st *state) error {
	c, repo := r.client(reg), im.lock.Repository
	needed := map[string]blob{}
	var order []string
	for _, m := range im.manifests {
		if m != im.root() {
			ok, err := c.headManifest(ctx, repo, m.Digest)
			if err != nil {
				return err
			}
			// A child the region holds is skipped with its blobs, unless
			// the region now mirrors foreign layers and the child has one
			// (a region switched to mirror: its layers are checked below,
			// and the child pushed again, which changes nothing).
			if backfill := r.foreign[reg] && slices.ContainsFunc(im.blobs[m.Digest], blob.foreign); ok && !backfill {
				continue
			}
		}
		st.manifests = append(st.manifests, m)
		for _, b := range im.blobs[m.Digest] {
			if _, dup := needed[b.Digest]; !dup {
				needed[b.Digest] = b
				order = append(order, b.Digest)
			}
		}
	}
	present := make([]bool, len(order))
	var g errgroup.Group
	g.SetLimit(r.o.jobs)
	for k, d := range order {
		b := needed[d]
		if b.foreign() && !r.foreign[reg] {
			st.res.ForeignLayers++
			present[k] = true
			continue
		}
		g.Go(func() error {
			ok, err := c.headBlob(ctx, repo, d)
			present[k] = ok
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, d := range order {
		b := needed[d]
		if present[k] {
			if !b.foreign() || r.foreign[reg] {
				st.res.BlobsSkipped++
				r.known[[2]string{reg, d}] = repo
			}
			continue
		}
		st.targets = append(st.targets, r.addTarget(i, im, reg, b))
	}
	return nil
}

// addTarget registers that region reg needs blob b in image i's repository.
// Callers hold r.mu.
func (r *run) addTarget(i int, im *image, reg string, b blob) *target {
	j := r.jobs[b.Digest]
	if j == nil {
		j = &blobJob{blob: b, srcRepo: im.lock.Repository}
		r.jobs[b.Digest] = j
	}
	for _, t := range j.targets {
		if t.region == reg && t.repo == im.lock.Repository {
			t.image = min(t.image, i)
			return t
		}
	}
	t := &target{region: reg, repo: im.lock.Repository, image: i, job: j}
	j.targets = append(j.targets, t)
	return t
}

// push puts the manifests of every image not pushed yet (transferred
// pushes each one as soon as its blobs are in) and waits for every push.
func (r *run) push(ctx context.Context) {
	for i := range r.lock.Images {
		for ri := range r.regions {
			r.startPush(ctx, i, ri)
		}
	}
	r.pushes.Wait()
}

// pushReady counts each image's missing blobs per region and starts the
// push of every image that lacks none (only manifests, or nothing).
func (r *run) pushReady(ctx context.Context) {
	r.mu.Lock()
	r.waiters = map[*target][][2]int{}
	var ready [][2]int
	for i := range r.states {
		for ri, st := range r.states[i] {
			st.pending = len(st.targets)
			for _, t := range st.targets {
				r.waiters[t] = append(r.waiters[t], [2]int{i, ri})
			}
			if st.pending == 0 {
				ready = append(ready, [2]int{i, ri})
			}
		}
	}
	r.mu.Unlock()
	for _, w := range ready {
		r.startPush(ctx, w[0], w[1])
	}
}

// transferred is called when job j is over (every target uploaded,
// mounted or failed): an image for which j was the last missing blob in a
// region is pushed to that region at once, so a region is done (and its
// hosts can pull) without waiting for the blobs other regions still lack.
func (r *run) transferred(ctx context.Context, j *blobJob) {
	var ready [][2]int
	r.mu.Lock()
	for _, t := range j.targets {
		for _, w := range r.waiters[t] {
			st := r.states[w[0]][w[1]]
			st.pending--
			if st.pending == 0 {
				ready = append(ready, w)
			}
		}
	}
	r.mu.Unlock()
	for _, w := range ready {
		r.startPush(ctx, w[0], w[1])
	}
}

// startPush pushes image i to region ri in the background, once: its
// manifests, children first, the top one by tag when the lock has one. At
// most jobs pushes run at once; push waits for them all.
func (r *run) startPush(ctx context.Context, i, ri int) {
	st := r.states[i][ri]
	r.mu.Lock()
	started := st.pushing
	st.pushing = true
	r.mu.Unlock()
	if started {
		return
	}
	r.pushes.Go(func() {
		r.pushSlots <- struct{}{}
		defer func() { <-r.pushSlots }()
		defer r.settle(i, ri)
		defer func() { st.res.Seconds = time.Since(r.started).Seconds() }()
		li, reg := r.lock.Images[i], r.regions[ri]
		if r.failed(st) || st.present {
			return
		}
		for _, t := range st.targets {
			if t.err != nil {
				r.fail(st, fmt.Errorf("blob %s: %w", t.digest(), t.err))
				return
			}
		}
		for _, m := range st.manifests {
			ref := m.Digest
			if m == r.images[i].root() && li.Tag != "" {
				ref = li.Tag
			}
			if err := r.client(reg).putManifest(ctx, li.Repository, ref, m); err != nil {
				r.fail(st, fmt.Errorf("manifest %s: %w", m.Digest, err))
				return
			}
		}
	})
}

// fail records err as st's failure unless it has one (under r.mu).
func (r *run) fail(st *state, err error) {
	r.mu.Lock()
	st.fail(err)
	r.mu.Unlock()
}

func (r *run) report() (*Report, error) {
	rep := &Report{Started: r.started.UTC(), Seconds: time.Since(r.started).Seconds(), SourceBytes: r.sourceBytes.Load()}
	// Attribute each target's outcome to the first image that needed it.
	for _, j := range r.jobs {
		for _, t := range j.targets {
			if t.err != nil {
				continue
			}
			res := &r.states[t.image][slices.Index(r.regions, t.region)].res
			switch {
			case t.mounted:
				res.BlobsMounted++
			case t.uploaded:
				res.BlobsUploaded++
				res.BytesMoved += j.blob.Size
			}
		}
	}
	var errs []error
	for i := range r.states {
		for _, st := range r.states[i] {
			switch {
			case st.err != nil:
				st.res.Status, st.res.Error = StatusFailed, st.err.Error()
				errs = append(errs, fmt.Errorf("mirror %s to %s: %w", st.res.Image, st.res.Region, st.err))
			case st.present:
				st.res.Status = StatusPresent
			default:
				st.res.Status = StatusMirrored
			}
			rep.Results = append(rep.Results, st.res)
		}
	}
	return rep, errors.Join(errs...)
}
