package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
)

// blobJob is one source blob and every {region, repository} that lacks it.
type blobJob struct {
	blob    blob
	srcRepo string
	targets []*target
}

// target is one repository of one region that lacks a blob.
type target struct {
	region, repo string
	image        int // first image (lock order) that needs it: the report counts it there
	job          *blobJob

	loc      string // upload session, while one is open
	mounted  bool
	uploaded bool
	err      error
}

func (t *target) digest() string { return t.job.blob.Digest }

// transfer moves every missing blob, several blobs at once.
func (r *run) transfer(ctx context.Context) {
	for _, j := range r.jobs {
		for _, t := range j.targets {
			r.prog.add(t.region, 0, j.blob.Size)
		}
	}
	digests := slices.Sorted(maps.Keys(r.jobs))
	var g errgroup.Group
	g.SetLimit(r.o.jobs)
	for _, d := range digests {
		j := r.jobs[d]
		g.Go(func() error {
			r.transferBlob(ctx, j)
			r.transferred(ctx, j)
			return nil
		})
	}
	_ = g.Wait()
}

// transferBlob gets one blob into every target: mounted where the region
// holds it in another repository (seen in this run, or guessed from the
// images already there), else streamed from one source read to the first
// target of each region; the region's other repositories then mount from
// that one.
func (r *run) transferBlob(ctx context.Context, j *blobJob) {
	byRegion := map[string][]*target{}
	for _, t := range j.targets {
		byRegion[t.region] = append(byRegion[t.region], t)
	}
	var upload, later []*target
	for _, reg := range slices.Sorted(maps.Keys(byRegion)) {
		from := r.knownRepo(reg, j.blob.Digest)
		for k, t := range byRegion[reg] {
			if from == "" && k > 0 {
				later = append(later, t)
				continue
			}
			f := from
			if f == "" {
				f = r.guessRepo(reg, t.repo)
			}
			if r.open(ctx, t, f) {
				upload = append(upload, t)
			}
		}
	}
	r.send(ctx, j, upload)
	var again []*target
	for _, t := range later {
		from := r.knownRepo(t.region, j.blob.Digest)
		if from == "" {
			t.err = fmt.Errorf("not uploaded to %s in region %s", byRegion[t.region][0].repo, t.region)
			continue
		}
		if r.open(ctx, t, from) {
			again = append(again, t)
		}
	}
	r.send(ctx, j, again)
}

func (r *run) knownRepo(region, digest string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.known[[2]string{region, digest}]
}

// guessRepo picks a repository of the region that may hold a blob nobody
// has seen there: one with an image of this lock already in place (images
// of a release often share base layers). The guess is free: a registry that
// cannot mount answers with the upload session needed anyway.
func (r *run) guessRepo(region, repo string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range slices.Sorted(slices.Values(r.held[region])) {
		if h != repo {
			return h
		}
	}
	return ""
}

// open mounts t's blob from repository from (when set) or opens an upload
// session; it reports whether t still needs the bytes.
func (r *run) open(ctx context.Context, t *target, from string) bool {
	mounted, loc, err := r.dst[t.region].startUpload(ctx, t.repo, t.digest(), from)
	switch {
	case err != nil:
		t.err = err
		return false
	case mounted:
		t.mounted = true
		r.prog.add(t.region, 0, -t.job.blob.Size)
		r.mu.Lock()
		r.known[[2]string{t.region, t.digest()}] = t.repo
		r.mu.Unlock()
		return false
	default:
		t.loc = loc
		return true
	}
}

// send streams the blob to ts, then retries the targets that failed (alone,
// or together when the source read failed for all), each with a new session.
func (r *run) send(ctx context.Context, j *blobJob, ts []*target) {
	for attempt := 1; len(ts) > 0; attempt++ {
		r.fanout(ctx, j, ts)
		var retry []*target
		for _, t := range ts {
			if t.err == nil {
				t.uploaded = true
				r.mu.Lock()
				r.known[[2]string{t.region, j.blob.Digest}] = t.repo
				r.mu.Unlock()
				continue
			}
			if attempt < r.o.attempts && ctx.Err() == nil && !errors.Is(t.err, ErrAuth) {
				retry = append(retry, t)
			}
		}
		if len(retry) == 0 {
			return
		}
		r.o.logger.Debug("retrying blob", "digest", j.blob.Digest, "targets", len(retry), "attempt", attempt, "err", retry[0].err)
		if err := r.o.sleep(ctx, r.o.delay(attempt, 0)); err != nil {
			return
		}
		ts = ts[:0]
		for _, t := range retry {
			last := t.err
			t.err = nil
			if !r.open(ctx, t, "") {
				if t.err == nil {
					t.err = last
				}
				continue
			}
			ts = append(ts, t)
		}
	}
}

// fanout reads the blob once from the source and streams it into one PUT
// per target. Slots are taken source first, then regions in name order, so
// concurrent fan-outs cannot deadlock. Each target's err is set.
func (r *run) fanout(ctx context.Context, j *blobJob, ts []*target) {
	setAll := func(err error) {
		for _, t := range ts {
			t.err = err
		}
	}
	if err := r.src.slots.Acquire(ctx, 1); err != nil {
		setAll(err)
		return
	}
	defer r.src.slots.Release(1)
	regions := map[string]bool{}
	for _, t := range ts {
		regions[t.region] = true
	}
	for _, reg := range slices.Sorted(maps.Keys(regions)) {
		if err := r.dst[reg].slots.Acquire(ctx, 1); err != nil {
			setAll(err)
			return
		}
		defer r.dst[reg].slots.Release(1)
	}

	sinks := make([]*sink, len(ts))
	var wg sync.WaitGroup
	for k, t := range ts {
		sctx, cancel := context.WithCancel(ctx)
		s := &sink{ch: make(chan *chunk, r.o.depth), dead: make(chan struct{}), cancel: cancel}
		s.rd = &chanReader{ctx: sctx, ch: s.ch, onRead: func(n int) {
			s.sent.Add(int64(n))
			r.prog.add(t.region, int64(n), 0)
		}}
		sinks[k] = s
		wg.Go(func() {
			s.err = r.dst[t.region].putBlob(sctx, t.loc, t.digest(), j.blob.Size, s.rd)
			close(s.dead)
		})
	}
	srcErr := r.pump(ctx, j, sinks)
	for _, s := range sinks {
		if srcErr != nil {
			s.cancel()
		} else {
			close(s.ch)
		}
	}
	wg.Wait()
	for k, t := range ts {
		s := sinks[k]
		s.cancel()
		t.loc = ""
		switch {
		case s.err == nil && srcErr == nil:
			t.err = nil
		case srcErr != nil:
			t.err = srcErr
		default:
			t.err = fmt.Errorf("upload to region %s: %w", t.region, s.err)
		}
		if t.err != nil {
			r.prog.add(t.region, -s.sent.Load(), 0)
		}
	}
}
