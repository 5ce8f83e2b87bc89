package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

// TestMirrorRegionDoneWhileAnotherUploads: r1 already holds b:1 and lacks
// a:1; r2 lacks both, and its uploads of b's blobs are held until r1 is
// reported done. r1 must be reported done (a:1 pushed there) as soon as
// a's blobs are in, not after the transfer of the blobs only r2 needs:
// before, every manifest waited for every blob of every region, and this
// test deadlocked until its guard deadline.
func TestMirrorRegionDoneWhileAnotherUploads(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	l.seed(t, registries.SeedSpec{Images: []string{"a:1", "b:1"}, Size: 64 << 10, Layers: 1})
	lock := l.lock(t, []string{"a:1", "b:1"})
	bOnly := &inventory.Lock{Version: lock.Version, Images: lock.Images[1:]}
	if _, err := Mirror(t.Context(), bOnly, l.source(), map[string]inventory.Registry{"r1": l.inv()["r1"]}, l.opts()...); err != nil {
		t.Fatal(err)
	}

	release := make(chan struct{})
	var releaseOnce sync.Once
	target, err := url.Parse("http://" + l.regions["r2"].Addr())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.HasPrefix(r.URL.Path, "/v2/b/blobs/uploads/") {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(held.Close)
	regions := map[string]inventory.Registry{
		"r1": l.inv()["r1"],
		"r2": {Address: strings.TrimPrefix(held.URL, "http://"), Insecure: true},
	}

	var mu sync.Mutex
	var order []string
	done := func(region string, err error) {
		mu.Lock()
		order = append(order, region)
		mu.Unlock()
		if err != nil {
			t.Errorf("region %s: %v", region, err)
		}
		if region == "r1" {
			releaseOnce.Do(func() { close(release) })
		}
	}
	// A guard, not a wait: without per-region pushes r1 is never reported
	// while r2's uploads are held, and the mirror would hang.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rep, err := Mirror(ctx, lock, l.source(), regions, l.opts(WithJobs(8), WithRegionDone(done))...)
	releaseOnce.Do(func() { close(release) })
	if err != nil {
		t.Fatalf("mirror: %v (regions reported: %v; r1 was not reported done while r2's uploads were held)", err, order)
	}
	if strings.Join(order, ",") != "r1,r2" {
		t.Errorf("regions reported %v, want r1 (done while r2 uploads) then r2", order)
	}
	for _, res := range rep.Results {
		if res.Status == StatusFailed {
			t.Errorf("%s in %s: %s", res.Image, res.Region, res.Error)
		}
	}
}
