package registry

import (
	"errors"
	"net/http"
	"testing"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

func TestParseSourceRef(t *testing.T) {
	t.Parallel()
	const dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		ref     string
		want    sourceRef
		wantErr bool
	}{
		{ref: "team/app:1.4", want: sourceRef{repo: "team/app", tag: "1.4"}},
		{ref: "build.example.com:5000/team/app:1.4", want: sourceRef{repo: "team/app", tag: "1.4"}},
		{ref: "team/app@" + dg, want: sourceRef{repo: "team/app", digest: dg}},
		{ref: "other.example.com/team/app:1.4", wantErr: true},
		{ref: "team/app", wantErr: true}, // no implicit :latest
		{ref: "Team/App:1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			t.Parallel()
			got, err := parseSourceRef("build.example.com:5000", tc.ref)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseSourceRef(%q) = %+v, %v; want %+v, error %v", tc.ref, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestResolveTagMoved: a tag moved since the lock is an error, not a silent
// re-resolve; WithRelock accepts it. Mirror refuses a narrowed index whose
// tag moved.
func TestResolveTagMoved(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0", "app:1.1"}, MultiArch: "multi:1.0", Size: 64 << 10, Layers: 2})
	l.seed(t, registries.SeedSpec{MultiArch: "multi:2.0", Size: 64 << 10, Layers: 2})
	rel := &inventory.Release{Version: 1, Images: []inventory.ReleaseImage{{Name: "app", Ref: "app:1.0"}}}
	first, err := Resolve(t.Context(), l.source(), rel, l.opts()...)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	// Unchanged tag: same digest, no error.
	if again, err := Resolve(t.Context(), l.source(), rel, l.opts(WithPrevious(first))...); err != nil || again.Images[0].Digest != first.Images[0].Digest {
		t.Fatalf("re-resolve unchanged: %v", err)
	}
	copyImage(t, l.src.Addr(), "app:1.1", "app:1.0") // CI re-pushes the tag
	_, err = Resolve(t.Context(), l.source(), rel, l.opts(WithPrevious(first))...)
	var moved *TagMovedError
	if !errors.Is(err, ErrTagMoved) || !errors.As(err, &moved) || moved.Locked != first.Images[0].Digest {
		t.Fatalf("resolve after the tag moved: %v, want a *TagMovedError from %s", err, first.Images[0].Digest)
	}
	relocked, err := Resolve(t.Context(), l.source(), rel, l.opts(WithPrevious(first), WithRelock(true))...)
	if err != nil || relocked.Images[0].Digest == first.Images[0].Digest {
		t.Fatalf("relock: %v, digest %s", err, relocked.Images[0].Digest)
	}

	// A narrowed index is rebuilt from the tag: a moved tag is refused.
	narrowed := l.lock(t, []string{"multi:1.0"}, WithPlatforms("linux/amd64"))
	copyImage(t, l.src.Addr(), "multi:2.0", "multi:1.0")
	l.resetStats()
	_, err = Mirror(t.Context(), narrowed, l.source(), l.inv(), l.opts()...)
	if !errors.Is(err, ErrTagMoved) {
		t.Fatalf("mirror narrowed index after the tag moved: %v, want ErrTagMoved", err)
	}
	if n := l.regions["r1"].Stats().Get("", netem.ClassUploads).Requests; n != 0 {
		t.Errorf("region saw %d upload requests, want none", n)
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	l := newLab(t, 0)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 64 << 10, Layers: 1})
	tests := []struct {
		name   string
		images []inventory.ReleaseImage
		opts   []Option
		prev   *inventory.Lock
	}{
		{name: "unknown tag", images: []inventory.ReleaseImage{{Name: "app", Ref: "app:9.9"}}},
		{name: "duplicate name", images: []inventory.ReleaseImage{{Name: "app", Ref: "app:1.0"}, {Name: "app", Ref: "app:1.0"}}},
		{name: "other registry", images: []inventory.ReleaseImage{{Name: "app", Ref: "elsewhere.example.com/app:1.0"}}},
		{name: "bad platform", images: []inventory.ReleaseImage{{Name: "app", Ref: "app:1.0"}}, opts: []Option{WithPlatforms("linux")}},
		{name: "lock from another source", images: []inventory.ReleaseImage{{Name: "app", Ref: "app:1.0"}},
			opts: []Option{WithPrevious(&inventory.Lock{Source: "elsewhere:5000"})}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rel := &inventory.Release{Version: 1, Images: tc.images}
			if _, err := Resolve(t.Context(), l.source(), rel, l.opts(tc.opts...)...); err == nil {
				t.Error("want an error")
			}
		})
	}
}

// TestPlan lists what is missing per region and writes nothing.
func TestPlan(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0", "app:1.1"}, Size: 256 << 10, Layers: 4, Base: 3})
	old := l.lock(t, []string{"app:1.0"})
	regions := l.inv()
	delete(regions, "r2")
	if _, err := Mirror(t.Context(), old, l.source(), regions, l.opts()...); err != nil {
		t.Fatalf("mirror 1.0 to r1: %v", err)
	}
	lock := l.lock(t, []string{"app:1.0", "app:1.1"})
	all := blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest)
	for d, s := range blobSizes(t, l.src.Addr(), "app", lock.Images[1].Digest) {
		all[d] = s
	}
	only11 := sum(all) - sum(blobSizes(t, l.src.Addr(), "app", old.Images[0].Digest))
	l.resetStats()
	plan, err := Plan(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	want := map[string]struct {
		blobs int
		bytes int64
	}{"r1": {2, only11}, "r2": {len(all), sum(all)}}
	for _, rp := range plan.Regions {
		if w := want[rp.Region]; rp.MissingBlobs != w.blobs || rp.MissingBytes != w.bytes {
			t.Errorf("region %s: %d blobs, %d bytes missing; want %d, %d", rp.Region, rp.MissingBlobs, rp.MissingBytes, w.blobs, w.bytes)
		}
		if rp.Region == "r1" && (!rp.Images[0].Present || rp.Images[1].Present) {
			t.Errorf("r1 images %+v: want 1.0 present, 1.1 missing", rp.Images)
		}
	}
	for name, r := range l.regions {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch} {
			if n := r.Stats().Get(m, netem.ClassUploads).Requests + r.Stats().Get(m, netem.ClassManifests).Requests; n != 0 {
				t.Errorf("region %s: %d %s requests during a plan", name, n, m)
			}
		}
	}
	if n := served(l.src); n != 0 {
		t.Errorf("source served %d blob bytes during a plan", n)
	}
}
