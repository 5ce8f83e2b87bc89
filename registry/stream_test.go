package registry

import (
	"context"
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
