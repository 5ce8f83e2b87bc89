package registry

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

// TestMirrorForeignLayersPerRegion: a region set to foreignLayers: mirror
// gets the foreign layer's bytes, one left at urls does not, and both get
// the source's manifest byte for byte (urls kept, digest unchanged).
func TestMirrorForeignLayersPerRegion(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	seeded := l.seed(t, registries.SeedSpec{Foreign: "win:1.0", Size: 64 << 10, Layers: 2})
	foreign := seeded["win:1.0"].Layers[0]
	lock := l.lock(t, []string{"win:1.0"})
	regions := l.inv()
	mirrored := regions["r1"]
	mirrored.ForeignLayers = inventory.ForeignMirror
	regions["r1"] = mirrored // r2 stays at the default (unset: urls)

	rep, err := Mirror(t.Context(), lock, l.source(), regions, l.opts()...)
	if err != nil {
		t.Fatalf("mirror: %v", err)
	}
	for _, res := range rep.Results {
		want := map[string]int{"r1": 0, "r2": 1}[res.Region]
		if res.ForeignLayers != want || res.Status != StatusMirrored {
			t.Errorf("region %s: %d foreign layers left as references, status %s; want %d, mirrored", res.Region, res.ForeignLayers, res.Status, want)
		}
	}
	_, srcManifest := getManifest(t, l.src.Addr(), "win", lock.Images[0].Digest)
	if !bytes.Contains(srcManifest, []byte(`"urls"`)) {
		t.Fatalf("seeded manifest has no urls: %s", srcManifest)
	}
	for name, want := range map[string]bool{"r1": true, "r2": false} {
		r := l.regions[name]
		if code, _ := headBlob(t, r.Addr(), "win", foreign); (code == http.StatusOK) != want {
			t.Errorf("region %s: foreign layer HEAD %d, want present=%v", name, code, want)
		}
		code, got := getManifest(t, r.Addr(), "win", lock.Images[0].Digest)
		if code != http.StatusOK || !bytes.Equal(got, srcManifest) {
			t.Errorf("region %s: manifest %d, want the source's bytes (urls kept):\n%s", name, code, got)
		}
	}
}

// TestMirrorForeignLayersBackfill: a region that got an image while it left
// foreign layers at their URLs gets them once set to mirror, although it
// already holds the image's manifest; then it reports the image present.
func TestMirrorForeignLayersBackfill(t *testing.T) {
	t.Parallel()
	// An image, and an index whose child holds the foreign layer: the
	// region holds that child already, and must still get its layer.
	for name, builds := range map[string][]string{"image": nil, "index": {"10.0.17763.6054"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testMirrorForeignLayersBackfill(t, builds)
		})
	}
}

func testMirrorForeignLayersBackfill(t *testing.T, builds []string) {
	l := newLab(t, 1)
	l.seed(t, registries.SeedSpec{Foreign: "win:1.0", Size: 64 << 10, Layers: 2, WindowsBuilds: builds})
	lock := l.lock(t, []string{"win:1.0"})
	layers, err := ForeignLayers(t.Context(), lock, l.source(), l.opts()...)
	if err != nil || len(layers) == 0 || (builds != nil) != (len(layers[0].Platforms) > 0) {
		t.Fatalf("foreign layers %+v, %v: want one, of an index entry when an index", layers, err)
	}
	foreign := layers[0].Digest
	regions := l.inv()
	if _, err := Mirror(t.Context(), lock, l.source(), regions, l.opts()...); err != nil {
		t.Fatalf("first mirror (urls): %v", err)
	}
	addr := l.regions["r1"].Addr()
	if code, _ := headBlob(t, addr, "win", foreign); code == http.StatusOK {
		t.Fatal("the foreign layer was copied while the region was at urls")
	}
	r1 := regions["r1"]
	r1.ForeignLayers = inventory.ForeignMirror
	regions["r1"] = r1
	for _, want := range []Status{StatusMirrored, StatusPresent} {
		var done []string
		rep, err := Mirror(t.Context(), lock, l.source(), regions, l.opts(WithRegionDone(func(region string, err error) {
			if code, _ := headBlob(t, addr, "win", foreign); code != http.StatusOK {
				t.Errorf("region %s reported done (%v) before it held the foreign layer", region, err)
			}
			done = append(done, region)
		}))...)
		if err != nil || len(rep.Results) != 1 || rep.Results[0].Status != want || len(done) != 1 {
			t.Fatalf("mirror (now mirror): %v, %+v, done %v; want %s, done once", err, rep.Results, done, want)
		}
	}
}

// TestForeignLayerPulledFromTheRegionFirst: a host pulling from a region
// set to mirror gets the foreign layer from that region, not from its URL
// (dockerd asks the registry first and follows urls only when the registry
// lacks the blob: moby distribution/pull_v2_windows.go), so a DMZ host
// never reaches outside; from a region left at urls it follows the URL (a
// Windows host: dockerd on Linux never follows urls).
func TestForeignLayerPulledFromTheRegionFirst(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	l.seed(t, registries.SeedSpec{Foreign: "win:1.0", Size: 64 << 10, Layers: 2, WindowsBuilds: []string{"10.0.17763.6054"}})
	lock := l.lock(t, []string{"win:1.0"})
	regions := l.inv()
	mirrored := regions["r1"]
	mirrored.ForeignLayers = inventory.ForeignMirror
	regions["r1"] = mirrored
	if _, err := Mirror(t.Context(), lock, l.source(), regions, l.opts()...); err != nil {
		t.Fatalf("mirror: %v", err)
	}
	for region, fromSource := range map[string]bool{"r1": false, "r2": true} {
		h, err := dockersim.Start(t.Context(), dockersim.WithPlatform("windows/amd64"), dockersim.WithOSVersion("10.0.17763"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		ref := l.regions[region].Addr() + "/win@" + lock.Images[0].Digest
		if err := h.EnsureImage(t.Context(), ref, false); err != nil {
			t.Fatalf("%s: pull %s: %v", region, ref, err)
		}
		got := h.Stats().BytesFetched[l.src.Addr()]
		if (got > 0) != fromSource {
			t.Errorf("pull from %s: %d bytes from the source's foreign URL, want some=%v (%v)", region, got, fromSource, h.Stats().BytesFetched)
		}
	}
}

// TestForeignLayersNamePlatforms: for an index, each foreign layer names
// the entries that hold it, so plan can say only the hosts pulling those
// entries download it. (The lab's list shares its layers across entries,
// so here every entry holds it; a real Windows list's linux entry holds
// none.)
func TestForeignLayersNamePlatforms(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	l.seed(t, registries.SeedSpec{Foreign: "win:1.0", WindowsBuilds: []string{"10.0.17763.1", "10.0.20348.1"}, Size: 64 << 10, Layers: 2})
	lock := l.lock(t, []string{"win:1.0"})
	layers, err := ForeignLayers(t.Context(), lock, l.source(), l.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("foreign layers %+v, want the one", layers)
	}
	want := []string{"linux/amd64", "windows/amd64 10.0.17763.1", "windows/amd64 10.0.20348.1"}
	got := slices.Sorted(slices.Values(layers[0].Platforms))
	if !slices.Equal(got, want) {
		t.Errorf("layer held by %v, want %v", got, want)
	}
	l.seed(t, registries.SeedSpec{Foreign: "plain:1.0", Size: 64 << 10, Layers: 2})
	layers, err = ForeignLayers(t.Context(), l.lock(t, []string{"plain:1.0"}), l.source(), l.opts()...)
	if err != nil || len(layers) != 1 || len(layers[0].Platforms) != 0 {
		t.Errorf("an image that is not an index: %+v, %v; want one layer naming no platform", layers, err)
	}
}
