package registry

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
)

// TestMirrorSlowRegion: one slow region slows the stream but the source is
// still read once; progress ends at the total for every region.
func TestMirrorSlowRegion(t *testing.T) {
	t.Parallel()
	l := newLab(t, 3)
	l.regions["r2"].SetLink(netem.Link{BytesPerSec: 4 << 20})
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 2 << 20, Layers: 2})
	lock := l.lock(t, []string{"app:1.0"})
	want := sum(blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest))
	l.resetStats()
	var mu sync.Mutex
	last := map[string]Progress{}
	onProgress := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Done < 0 || p.Done > p.Total {
			t.Errorf("progress %+v out of range", p)
		}
		last[p.Region] = p
	}
	if _, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(WithProgress(onProgress))...); err != nil {
		t.Fatalf("mirror: %v", err)
	}
	if got, n := served(l.src), l.src.Stats().Get(http.MethodGet, netem.ClassBlobs).Requests; got != want || n != 3 {
		t.Errorf("source served %d bytes in %d GETs, want %d in 3 (config and 2 layers, once)", got, n, want)
	}
	mu.Lock()
	defer mu.Unlock()
	for name := range l.regions {
		if p := last[name]; p.Done != want || p.Total != want {
			t.Errorf("region %s: last progress %+v, want %d of %d", name, p, want, want)
		}
	}
}

// TestMirrorResumes: a run interrupted after its first blob upload leaves
// that blob in place; the next run skips it and completes.
func TestMirrorResumes(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 1 << 20, Layers: 4})
	lock := l.lock(t, []string{"app:1.0"})
	want := sum(blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cut := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil && req.Method == http.MethodPut && resp.StatusCode == http.StatusCreated {
			cancel() // interrupted right after the first blob landed
		}
		return resp, err
	})
	rep, err := Mirror(ctx, lock, l.source(), l.inv(), l.opts(WithJobs(1), WithTransport(cut))...)
	if err == nil || rep.Results[0].Status != StatusFailed {
		t.Fatalf("interrupted run: %v, %+v; want a failure", err, rep.Results)
	}
	l.resetStats()
	rep, err = Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	res := rep.Results[0]
	if res.Status != StatusMirrored || res.BlobsSkipped < 1 || res.BlobsSkipped+res.BlobsUploaded != 5 {
		t.Errorf("resumed result %+v: want mirrored, at least one blob skipped", res)
	}
	if got := uploaded(l.regions["r1"]); got >= want || got != res.BytesMoved {
		t.Errorf("resumed run uploaded %d bytes (report %d), want less than the whole %d", got, res.BytesMoved, want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestMirrorBoundsPerRegistry: maxConcurrency bounds blob transfers per
// registry (source reads until the body is closed, region uploads).
func TestMirrorBoundsPerRegistry(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0", "app:1.1"}, Size: 1 << 20, Layers: 4, Base: -1})
	lock := l.lock(t, []string{"app:1.0", "app:1.1"})
	var mu sync.Mutex
	cur, peak := map[string]int{}, map[string]int{}
	track := func(key string, d int) {
		mu.Lock()
		defer mu.Unlock()
		cur[key] += d
		peak[key] = max(peak[key], cur[key])
	}
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		c, _, _ := netem.Classify(req.URL.Path)
		key := req.URL.Host + " " + req.Method
		stream := (req.Method == http.MethodPut && c == netem.ClassUploads) || (req.Method == http.MethodGet && c == netem.ClassBlobs)
		if !stream {
			return http.DefaultTransport.RoundTrip(req)
		}
		track(key, 1)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil || req.Method == http.MethodPut {
			track(key, -1)
			return resp, err
		}
		resp.Body = &closeHook{ReadCloser: resp.Body, fn: func() { track(key, -1) }}
		return resp, nil
	})
	source := l.source()
	source.MaxConcurrency = 2
	regions := l.inv()
	r1 := regions["r1"]
	r1.MaxConcurrency = 1
	regions["r1"] = r1
	if _, err := Mirror(t.Context(), lock, source, regions, l.opts(WithJobs(4), WithTransport(rt))...); err != nil {
		t.Fatalf("mirror: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{l.src.Addr() + " GET": 2, l.regions["r1"].Addr() + " PUT": 1, l.regions["r2"].Addr() + " PUT": 4}
	for key, limit := range want {
		if peak[key] < 1 || peak[key] > limit {
			t.Errorf("%s: peak %d concurrent transfers, want 1..%d", key, peak[key], limit)
		}
	}
}

type closeHook struct {
	io.ReadCloser
	once sync.Once
	fn   func()
}

func (c *closeHook) Close() error {
	c.once.Do(c.fn)
	return c.ReadCloser.Close()
}
