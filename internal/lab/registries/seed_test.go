package registries

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drover-dev/drover/internal/lab/netem"
)

func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }

var fullSpec = SeedSpec{
	Images:    []string{"app:1.0", "app:1.1", "team/api:2"},
	Size:      64 << 10,
	Layers:    4,
	MultiArch: "app:multi",
	Foreign:   "win:ltsc",
}

func bySeededRef(s []Seeded) map[string]Seeded {
	m := map[string]Seeded{}
	for _, x := range s {
		m[x.Ref] = x
	}
	return m
}

func TestSeedRoundTrip(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.String(), func(t *testing.T) {
			t.Parallel()
			r := start(t, WithImpl(impl))
			seeded, err := Seed(t.Context(), r.Addr(), fullSpec)
			if err != nil {
				t.Fatal(err)
			}
			if len(seeded) != 5 {
				t.Fatalf("seeded %d refs, want 5", len(seeded))
			}
			for _, s := range seeded {
				ref, err := name.ParseReference(r.Addr()+"/"+s.Ref, name.Insecure)
				if err != nil {
					t.Fatal(err)
				}
				desc, err := remote.Get(ref, remote.WithContext(t.Context()))
				if err != nil {
					t.Fatalf("get %s: %v", s.Ref, err)
				}
				if desc.Digest.String() != s.Digest || string(desc.MediaType) != s.MediaType {
					t.Errorf("%s: registry has %s %s, Seed said %s %s", s.Ref, desc.Digest, desc.MediaType, s.Digest, s.MediaType)
				}
				if desc.MediaType.IsIndex() {
					idx, err := desc.ImageIndex()
					if err != nil {
						t.Fatal(err)
					}
					im, err := idx.IndexManifest()
					if err != nil {
						t.Fatal(err)
					}
					for _, d := range im.Manifests {
						img, err := idx.Image(d.Digest)
						if err != nil {
							t.Fatal(err)
						}
						checkImage(t, s.Ref+" "+d.Platform.OS, img)
					}
					continue
				}
				img, err := desc.Image()
				if err != nil {
					t.Fatal(err)
				}
				// Full validation downloads every layer (the foreign one from
				// its URL) and checks digests, diff IDs and sizes.
				checkImage(t, s.Ref, img)
			}
		})
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := start(t), start(t, WithImpl(GGCR))
	sa, err := Seed(t.Context(), a.Addr(), fullSpec)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Seed(t.Context(), b.Addr(), fullSpec)
	if err != nil {
		t.Fatal(err)
	}
	ma, mb := bySeededRef(sa), bySeededRef(sb)
	for ref, x := range ma {
		y := mb[ref]
		if ref == fullSpec.Foreign {
			// The foreign layer's URL names the registry, so the manifest
			// differs; the layers do not.
			if !slices.Equal(x.Layers, y.Layers) {
				t.Errorf("%s layers differ between registries", ref)
			}
			continue
		}
		if x.Digest != y.Digest {
			t.Errorf("%s: digest %s on one registry, %s on the other", ref, x.Digest, y.Digest)
		}
	}
	// A different size gives different content.
	other := fullSpec
	other.Size = 32 << 10
	sc, err := Seed(t.Context(), a.Addr(), SeedSpec{Images: []string{"app:1.0"}, Size: other.Size, Layers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if sc[0].Digest == ma["app:1.0"].Digest {
		t.Errorf("different sizes gave the same digest")
	}
}

func TestSeedSharesBaseLayers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		base       int
		wantShared int
	}{
		{"default half", 0, 3},
		{"explicit", 5, 5},
		{"none", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t)
			seeded, err := Seed(t.Context(), r.Addr(), SeedSpec{Images: []string{"app:1.0", "app:1.1", "other:1.0"}, Size: 48 << 10, Layers: 6, Base: tt.base})
			if err != nil {
				t.Fatal(err)
			}
			m := bySeededRef(seeded)
			v0, v1, o := m["app:1.0"].Layers, m["app:1.1"].Layers, m["other:1.0"].Layers
			shared := 0
			for i := range v0 {
				if v0[i] == v1[i] {
					shared++
				}
				if v0[i] == o[i] {
					t.Errorf("layer %d shared across repositories", i)
				}
			}
			if shared != tt.wantShared {
				t.Errorf("shared %d layers, want %d", shared, tt.wantShared)
			}
			// Pushing app:1.1 after app:1.0 uploaded only its own layers.
			uploads := 0
			for _, e := range r.Log() {
				if e.Class == netem.ClassUploads && e.Method == http.MethodPut && e.Repo == "app" {
					uploads++
				}
			}
			if want := 6 + (6 - tt.wantShared) + 2; uploads != want { // layers + 2 configs
				t.Errorf("app uploads = %d, want %d", uploads, want)
			}
		})
	}
}

func TestSeedMultiArchAndForeign(t *testing.T) {
	t.Parallel()
	r := start(t)
	seeded, err := Seed(t.Context(), r.Addr(), SeedSpec{Images: []string{"app:1.0"}, Size: 16 << 10, Layers: 2, MultiArch: "app:1.0", Foreign: "win:1"})
	if err != nil {
		t.Fatal(err)
	}
	m := bySeededRef(seeded)
	multi := m["app:1.0"]
	if multi.MediaType != string(types.DockerManifestList) || !slices.Equal(multi.Platforms, []string{"linux/amd64", "windows/amd64"}) {
		t.Errorf("multi-arch = %+v", multi)
	}
	idxRef, _ := name.ParseReference(r.Addr()+"/app:1.0", name.Insecure)
	idx, err := remote.Index(idxRef, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	for _, d := range im.Manifests {
		plats = append(plats, d.Platform.OS+"/"+d.Platform.Architecture)
	}
	if !slices.Equal(plats, multi.Platforms) {
		t.Errorf("index platforms = %v", plats)
	}

	win := m["win:1"]
	if len(win.ForeignURLs) != 1 {
		t.Fatalf("foreign URLs = %v", win.ForeignURLs)
	}
	ref, _ := name.ParseReference(r.Addr()+"/win:1", name.Insecure)
	img, err := remote.Image(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	mf, _ := img.Manifest()
	fl := mf.Layers[0]
	if fl.MediaType != types.DockerForeignLayer || len(fl.URLs) != 1 {
		t.Fatalf("first layer = %+v", fl)
	}
	// The foreign blob was not pushed...
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, r.URL()+"/v2/win/blobs/"+fl.Digest.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD foreign blob = %d, want 404", resp.StatusCode)
	}
	// ...but its URL serves bytes with that digest.
	checkForeign(t, fl)
}

// checkForeign fetches a foreign layer from its URL and checks it.
func checkForeign(t *testing.T, d v1.Descriptor) {
	t.Helper()
	if len(d.URLs) != 1 {
		t.Fatalf("foreign layer URLs = %v", d.URLs)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, d.URLs[0], nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", d.URLs[0], resp.StatusCode, err)
	}
	if got := sha256.Sum256(body); "sha256:"+hex.EncodeToString(got[:]) != d.Digest.String() || int64(len(body)) != d.Size {
		t.Errorf("foreign URL served %d bytes with another digest", len(body))
	}
}

func TestGenLayer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int64
	}{{"empty", 0}, {"odd", 1001}, {"several chunks", 600 << 10}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newGenLayer("test/"+tt.name, tt.size, types.DockerLayer)
			checkLayer(t, tt.name, l, v1.Hash{})
			rc, _ := l.Compressed()
			zr, err := gzip.NewReader(rc)
			if err != nil {
				t.Fatal(err)
			}
			tr := tar.NewReader(zr)
			h, err := tr.Next()
			if err != nil {
				t.Fatal(err)
			}
			content, err := io.ReadAll(tr)
			if err != nil || int64(len(content)) != tt.size || h.Size != tt.size {
				t.Fatalf("file %s: %d bytes, %v", h.Name, len(content), err)
			}
			if _, err := tr.Next(); err != io.EOF {
				t.Errorf("second entry: %v", err)
			}
			d1, _ := l.Digest()
			d2, _ := newGenLayer("test/"+tt.name, tt.size, types.DockerLayer).Digest()
			d3, _ := newGenLayer("test/other", tt.size, types.DockerLayer).Digest()
			if d1 != d2 || d1 == d3 || d1 == (v1.Hash{}) {
				t.Errorf("digests: same key %v %v, other key %v", d1, d2, d3)
			}
		})
	}
}

// checkImage downloads every layer (a foreign one from its URL) and checks
// digests, sizes and diff IDs against manifest and config.
func checkImage(t *testing.T, what string, img v1.Image) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatalf("%s manifest: %v", what, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("%s config: %v", what, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		t.Fatalf("%s: %d diff IDs for %d layers", what, len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	for i, d := range m.Layers {
		if d.MediaType == types.DockerForeignLayer {
			// go-containerregistry refuses foreign URLs on private
			// addresses; fetch it as dockerd would.
			checkForeign(t, d)
			continue
		}
		l, err := img.LayerByDigest(d.Digest)
		if err != nil {
			t.Fatalf("%s layer %d: %v", what, i, err)
		}
		checkLayer(t, what, l, cfg.RootFS.DiffIDs[i])
		if n, _ := l.Size(); n != d.Size {
			t.Errorf("%s layer %d: size %d, manifest says %d", what, i, n, d.Size)
		}
	}
}

// checkLayer reads l's blob and uncompressed content and checks both hashes
// (against wantDiff too, unless zero).
func checkLayer(t *testing.T, what string, l v1.Layer, wantDiff v1.Hash) {
	t.Helper()
	hashOf := func(open func() (io.ReadCloser, error)) (v1.Hash, int64) {
		rc, err := open()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		defer rc.Close()
		h := sha256.New()
		n, err := io.Copy(h, rc)
		if err != nil {
			t.Fatalf("%s: read layer: %v", what, err)
		}
		return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, n
	}
	d, n := hashOf(l.Compressed)
	if want, _ := l.Digest(); d != want {
		t.Errorf("%s: blob hashes to %v, digest says %v", what, d, want)
	}
	if want, _ := l.Size(); n != want {
		t.Errorf("%s: blob has %d bytes, size says %d", what, n, want)
	}
	u, _ := hashOf(l.Uncompressed)
	if want, _ := l.DiffID(); u != want {
		t.Errorf("%s: content hashes to %v, diff ID says %v", what, u, want)
	}
	if wantDiff != (v1.Hash{}) && u != wantDiff {
		t.Errorf("%s: content hashes to %v, config says %v", what, u, wantDiff)
	}
}

func TestSeedSpecErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec SeedSpec
	}{
		{"no images", SeedSpec{}},
		{"base > layers", SeedSpec{Images: []string{"a:1"}, Layers: 2, Base: 3}},
		{"no tag", SeedSpec{Images: []string{"a"}}},
		{"negative size", SeedSpec{Images: []string{"a:1"}, Size: -1}},
		{"user without password", SeedSpec{Images: []string{"a:1"}, Username: "u"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// No registry listens here; a valid spec would fail later, with a dial error.
			_, err := Seed(t.Context(), "127.0.0.1:1", tt.spec)
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// TestSeedForeignWindows: with WindowsBuilds, the Foreign image is a list
// too, its Windows entries holding the foreign layer, so a lab with Windows
// hosts (lab up --windows-hosts ... --foreign REF) has a foreign-layer
// image those hosts can pull; it stayed linux-only, which a Windows host
// refuses (image operating system "linux" cannot be used on this platform).
func TestSeedForeignWindows(t *testing.T) {
	t.Parallel()
	r := start(t)
	builds := []string{"10.0.17763.6054", "10.0.20348.2582"}
	seeded, err := Seed(t.Context(), r.Addr(), SeedSpec{Size: 16 << 10, Layers: 2, Foreign: "win:1", WindowsBuilds: builds})
	if err != nil {
		t.Fatal(err)
	}
	win := bySeededRef(seeded)["win:1"]
	if want := []string{"linux/amd64", "windows/amd64:" + builds[0], "windows/amd64:" + builds[1]}; win.MediaType != string(types.DockerManifestList) ||
		!slices.Equal(win.Platforms, want) || len(win.ForeignURLs) != 1 {
		t.Fatalf("seeded %+v: want a manifest list of %v with one foreign URL", win, want)
	}
	ref, _ := name.ParseReference(r.Addr()+"/win:1", name.Insecure)
	idx, err := remote.Index(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if fl := mf.Layers[0]; fl.MediaType != types.DockerForeignLayer || cf.OS != d.Platform.OS {
			t.Errorf("%s entry: first layer %s, config os %q", d.Platform, fl.MediaType, cf.OS)
		}
	}
}
