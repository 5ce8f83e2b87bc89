package registries

import (
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drover-dev/drover/internal/lab/netem"
)

// TestCountersShowOnlyTheDeltaMoves copies app:1.0 then app:1.1 from one
// registry to another, as a mirror would, and checks with the source's
// counters that each copy read exactly the blobs the destination lacked.
func TestCountersShowOnlyTheDeltaMoves(t *testing.T) {
	t.Parallel()
	src, dst := start(t), start(t)
	seeded, err := Seed(t.Context(), src.Addr(), SeedSpec{Images: []string{"app:1.0", "app:1.1"}, Size: 128 << 10, Layers: 4, Base: 2})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range seeded {
		src.Faults().ResetStats()
		from, _ := name.ParseReference(src.Addr()+"/"+s.Ref, name.Insecure)
		to, _ := name.ParseReference(dst.Addr()+"/"+s.Ref, name.Insecure)
		img, err := remote.Image(from, remote.WithContext(t.Context()))
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(to, img, remote.WithContext(t.Context())); err != nil {
			t.Fatal(err)
		}
		m, _ := img.Manifest()
		want := int64(0)
		if !have[m.Config.Digest.String()] {
			want += m.Config.Size
		}
		for _, l := range m.Layers {
			if !have[l.Digest.String()] {
				want += l.Size
			}
			have[l.Digest.String()] = true
		}
		have[m.Config.Digest.String()] = true
		if err := src.Faults().Idle(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := src.Stats().Get(http.MethodGet, netem.ClassBlobs).BytesOut
		if got != want {
			t.Errorf("copy of %s read %d blob bytes from the source, want %d (the missing blobs)", s.Ref, got, want)
		}
		if s.Ref == "app:1.1" && got >= s.Size {
			t.Errorf("copy of %s read the whole image (%d bytes)", s.Ref, got)
		}
	}
}
