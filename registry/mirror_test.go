package registry

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
)

// TestMirrorThreeRegions: every region gets the locked manifest byte for
// byte; the source is read once for all three; a rerun moves nothing and
// makes one request per image and region.
func TestMirrorThreeRegions(t *testing.T) {
	t.Parallel()
	l := newLab(t, 3)
	seeded := l.seed(t, registries.SeedSpec{Images: []string{"team/app:1.0", "team/worker:2.0"}, Size: 512 << 10, Layers: 4})
	lock := l.lock(t, []string{"team/app:1.0", "team/worker:2.0"})
	var want int64
	for _, li := range lock.Images {
		if li.Digest != seeded[li.Name].Digest {
			t.Fatalf("lock %s = %s, seeded %s", li.Name, li.Digest, seeded[li.Name].Digest)
		}
		want += sum(blobSizes(t, l.src.Addr(), li.Repository, li.Digest))
	}
	l.resetStats()

	rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(WithJobs(3))...)
	if err != nil {
		t.Fatalf("mirror: %v", err)
	}
	if got := served(l.src); got != want {
		t.Errorf("source served %d blob bytes, want one copy: %d", got, want)
	}
	if rep.SourceBytes != want {
		t.Errorf("report source bytes %d, want %d", rep.SourceBytes, want)
	}
	for name, r := range l.regions {
		if got := uploaded(r); got != want {
			t.Errorf("region %s received %d bytes, want %d", name, got, want)
		}
		for _, li := range lock.Images {
			_, src := getManifest(t, l.src.Addr(), li.Repository, li.Digest)
			code, dst := getManifest(t, r.Addr(), li.Repository, li.Digest)
			if code != http.StatusOK || !bytes.Equal(src, dst) {
				t.Errorf("region %s %s: status %d, manifest identical %v", name, li.Name, code, bytes.Equal(src, dst))
			}
			if code, _ := getManifest(t, r.Addr(), li.Repository, li.Tag); code != http.StatusOK {
				t.Errorf("region %s %s: tag %s: status %d", name, li.Name, li.Tag, code)
			}
		}
	}
	var moved int64
	for _, res := range rep.Results {
		if res.Status != StatusMirrored || res.BlobsUploaded != 5 || res.Error != "" {
			t.Errorf("result %+v: want mirrored, 5 blobs uploaded", res)
		}
		moved += res.BytesMoved
	}
	if moved != 3*want {
		t.Errorf("report bytes moved %d, want %d", moved, 3*want)
	}

	// Second run: nothing moves; one HEAD per image and region.
	l.resetStats()
	rep, err = Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err != nil {
		t.Fatalf("second mirror: %v", err)
	}
	for _, res := range rep.Results {
		if res.Status != StatusPresent || res.BytesMoved != 0 {
			t.Errorf("second run result %+v: want present, nothing moved", res)
		}
	}
	if s := l.src.Stats(); s.Total.Requests > 0 {
		t.Errorf("second run: source saw %d requests; want none", s.Total.Requests)
	}
	for name, r := range l.regions {
		s := r.Stats()
		heads := s.Get(http.MethodHead, netem.ClassManifests).Requests
		if heads != len(lock.Images) || s.Total.Requests > len(lock.Images)+1 || s.Total.BytesIn > 0 {
			t.Errorf("second run: region %s saw %d requests (%d manifest HEADs), received %d bytes; want %d HEADs plus at most a ping",
				name, s.Total.Requests, heads, s.Total.BytesIn, len(lock.Images))
		}
	}
}

// TestMirrorNewVersionMovesOnlyNewLayers: a version sharing base layers with
// one already mirrored moves only its own layers and config.
func TestMirrorNewVersionMovesOnlyNewLayers(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0", "app:1.1"}, Size: 512 << 10, Layers: 4, Base: 3})
	old := l.lock(t, []string{"app:1.0"})
	if _, err := Mirror(t.Context(), old, l.source(), l.inv(), l.opts()...); err != nil {
		t.Fatalf("mirror 1.0: %v", err)
	}
	lock := l.lock(t, []string{"app:1.1"})
	oldBlobs := blobSizes(t, l.src.Addr(), "app", old.Images[0].Digest)
	var want int64
	newBlobs := 0
	for d, s := range blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest) {
		if _, ok := oldBlobs[d]; !ok {
			want += s
			newBlobs++
		}
	}
	if newBlobs != 2 { // one layer and the config
		t.Fatalf("seed: 1.1 has %d blobs 1.0 lacks, want 2", newBlobs)
	}
	l.resetStats()
	rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err != nil {
		t.Fatalf("mirror 1.1: %v", err)
	}
	if got := served(l.src); got != want {
		t.Errorf("source served %d bytes, want %d (new blobs, once)", got, want)
	}
	for name, r := range l.regions {
		if got := uploaded(r); got != want {
			t.Errorf("region %s received %d bytes, want %d", name, got, want)
		}
	}
	for _, res := range rep.Results {
		if res.BlobsSkipped != 3 || res.BlobsUploaded != 2 || res.BytesMoved != want {
			t.Errorf("result %+v: want 3 skipped, 2 uploaded, %d bytes", res, want)
		}
	}
}

// TestMirrorMountsAcrossRepositories: two repositories with the same blobs
// in one run: each region receives the bytes once and mounts the rest.
func TestMirrorMountsAcrossRepositories(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 256 << 10, Layers: 3})
	copyImage(t, l.src.Addr(), "app:1.0", "mirror/app:1.0")
	l.resetStats()
	lock := l.lock(t, []string{"app:1.0", "mirror/app:1.0"})
	want := sum(blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest))
	l.resetStats()
	rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err != nil {
		t.Fatalf("mirror: %v", err)
	}
	if got := served(l.src); got != want {
		t.Errorf("source served %d bytes, want %d", got, want)
	}
	mounted := 0
	for _, res := range rep.Results {
		mounted += res.BlobsMounted
	}
	if mounted != 2*4 {
		t.Errorf("mounted %d blobs, want 8 (4 per region)", mounted)
	}
	for name, r := range l.regions {
		if got := uploaded(r); got != want {
			t.Errorf("region %s received %d bytes, want %d (one copy, the rest mounted)", name, got, want)
		}
		if code, _ := getManifest(t, r.Addr(), "mirror/app", lock.Images[1].Digest); code != http.StatusOK {
			t.Errorf("region %s: mirror/app manifest status %d", name, code)
		}
	}
}

// TestMirrorMountsFromImagesInPlace: a new repository whose blobs a region
// already holds for another image of the release gets them mounted: no
// bytes move, the source is not read.
func TestMirrorMountsFromImagesInPlace(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 256 << 10, Layers: 3})
	copyImage(t, l.src.Addr(), "app:1.0", "mirror/app:1.0")
	if _, err := Mirror(t.Context(), l.lock(t, []string{"app:1.0"}), l.source(), l.inv(), l.opts()...); err != nil {
		t.Fatalf("mirror app: %v", err)
	}
	lock := l.lock(t, []string{"app:1.0", "mirror/app:1.0"})
	l.resetStats()
	rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err != nil {
		t.Fatalf("mirror: %v", err)
	}
	for _, res := range rep.Results {
		want := map[string]int{"app:1.0": 0, "mirror/app:1.0": 4}[res.Image]
		if res.BlobsMounted != want || res.BytesMoved != 0 {
			t.Errorf("result %+v: want %d mounted, nothing moved", res, want)
		}
	}
	if got := served(l.src); got != 0 {
		t.Errorf("source served %d blob bytes, want 0", got)
	}
	for name, r := range l.regions {
		if got := uploaded(r); got != 0 {
			t.Errorf("region %s received %d bytes, want 0", name, got)
		}
	}
}

func TestMirrorNeedsLockAndRegions(t *testing.T) {
	t.Parallel()
	_, err := Mirror(t.Context(), nil, inventoryRegistry("127.0.0.1:1"), nil)
	if err == nil {
		t.Fatal("mirror without lock or regions: want an error")
	}
	if _, err := Mirror(t.Context(), nil, inventoryRegistry("x"), nil, WithJobs(0)); err == nil || errors.Is(err, ErrAuth) {
		t.Fatalf("WithJobs(0): want an option error, got %v", err)
	}
}

// TestMirrorWithoutMountSupport: go-containerregistry's registry answers a
// mount with a plain upload session (202); the blob is then uploaded.
func TestMirrorWithoutMountSupport(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2, registries.WithImpl(registries.GGCR))
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 128 << 10, Layers: 2})
	copyImage(t, l.src.Addr(), "app:1.0", "mirror/app:1.0")
	lock := l.lock(t, []string{"app:1.0", "mirror/app:1.0"})
	rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err != nil {
		t.Fatalf("mirror: %v", err)
	}
	for _, res := range rep.Results {
		if res.Status != StatusMirrored || res.BlobsMounted != 0 {
			t.Errorf("result %+v: want mirrored without mounts", res)
		}
	}
	for name, r := range l.regions {
		for _, li := range lock.Images {
			if code, _ := getManifest(t, r.Addr(), li.Repository, li.Digest); code != http.StatusOK {
				t.Errorf("region %s %s: manifest status %d", name, li.Repository, code)
			}
		}
	}
}
