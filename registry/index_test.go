package registry

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/drover-dev/drover/internal/lab/registries"
)

// TestMirrorIndex: an index is kept whole by default; with a platform filter
// the lock records the narrowed index and only that platform moves.
func TestMirrorIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		platforms     []string
		wantPlatforms []string
		wantWindows   bool
	}{
		{name: "whole", wantPlatforms: []string{"linux/amd64", "windows/amd64:10.0.17763.6054"}, wantWindows: true},
		{name: "linux only", platforms: []string{"linux/amd64"}, wantPlatforms: []string{"linux/amd64"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, 2)
			seeded := l.seed(t, registries.SeedSpec{MultiArch: "multi:1.0", Size: 128 << 10, Layers: 2})
			lock := l.lock(t, []string{"multi:1.0"}, WithPlatforms(tc.platforms...))
			li := lock.Images[0]
			if !slices.Equal(li.Platforms, tc.wantPlatforms) {
				t.Errorf("lock platforms %v, want %v", li.Platforms, tc.wantPlatforms)
			}
			whole := li.Digest == seeded["multi:1.0"].Digest
			if whole != tc.wantWindows {
				t.Errorf("lock digest %s, source index %s: whole=%v, want %v", li.Digest, seeded["multi:1.0"].Digest, whole, tc.wantWindows)
			}
			_, srcIndex := getManifest(t, l.src.Addr(), "multi", "1.0")
			children := childDigests(t, srcIndex) // linux first, then windows
			var gotDigests []string
			for _, m := range li.Manifests {
				gotDigests = append(gotDigests, m.Digest)
			}
			if n := len(tc.wantPlatforms); !slices.Equal(gotDigests, children[:n]) {
				t.Errorf("lock manifests %+v, want digests %v", li.Manifests, children[:n])
			}
			if tc.wantWindows && li.Manifests[1].OSVersion != "10.0.17763.6054" {
				t.Errorf("lock windows entry %+v: want os.version 10.0.17763.6054", li.Manifests[1])
			}
			l.resetStats()

			if _, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...); err != nil {
				t.Fatalf("mirror: %v", err)
			}
			want := sum(blobSizes(t, l.src.Addr(), "multi", children[0]))
			if tc.wantWindows {
				want = sum(blobSizes(t, l.src.Addr(), "multi", seeded["multi:1.0"].Digest))
			}
			if got := served(l.src); got != want {
				t.Errorf("source served %d bytes, want %d", got, want)
			}
			for name, r := range l.regions {
				code, got := getManifest(t, r.Addr(), "multi", li.Digest)
				if code != http.StatusOK || digestOf(got) != li.Digest {
					t.Errorf("region %s: index status %d, digest %s, want %s", name, code, digestOf(got), li.Digest)
				}
				if tc.wantWindows && !bytes.Equal(got, srcIndex) {
					t.Errorf("region %s: index bytes differ from the source's", name)
				}
				code, _ = getManifest(t, r.Addr(), "multi", children[1])
				if (code == http.StatusOK) != tc.wantWindows {
					t.Errorf("region %s: windows manifest status %d, want present=%v", name, code, tc.wantWindows)
				}
			}
			// A rerun finds everything in place.
			rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
			if err != nil || rep.Results[0].Status != StatusPresent {
				t.Errorf("rerun: %v, %+v", err, rep.Results)
			}
		})
	}
}

// TestMirrorForeignLayers: foreign layers stay references by default and are
// copied (from their URLs, since the source lacks them) when asked.
func TestMirrorForeignLayers(t *testing.T) {
	t.Parallel()
	for _, copyForeign := range []bool{false, true} {
		t.Run(map[bool]string{false: "reference", true: "copy"}[copyForeign], func(t *testing.T) {
			t.Parallel()
			l := newLab(t, 2)
			seeded := l.seed(t, registries.SeedSpec{Foreign: "win:1.0", Size: 256 << 10, Layers: 3})
			foreign := seeded["win:1.0"].Layers[0]
			lock := l.lock(t, []string{"win:1.0"})
			rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(WithNondistributable(copyForeign))...)
			if err != nil {
				t.Fatalf("mirror: %v", err)
			}
			for _, res := range rep.Results {
				wantForeign := 1
				if copyForeign {
					wantForeign = 0
				}
				if res.ForeignLayers != wantForeign || res.Status != StatusMirrored {
					t.Errorf("result %+v: want %d foreign layers left, mirrored", res, wantForeign)
				}
			}
			for name, r := range l.regions {
				code, _ := headBlob(t, r.Addr(), "win", foreign)
				if (code == http.StatusOK) != copyForeign {
					t.Errorf("region %s: foreign layer HEAD %d, want present=%v", name, code, copyForeign)
				}
				if code, _ := getManifest(t, r.Addr(), "win", lock.Images[0].Digest); code != http.StatusOK {
					t.Errorf("region %s: manifest status %d", name, code)
				}
			}
		})
	}
}

// TestNarrowWindowsBuild: --platform windows/amd64:10.0.17763 (the build, as
// a host and lab up --windows-build spell it) keeps the entries of that
// build whatever their revision; it used to keep none ("no entry for
// platforms"), so only the exact revision narrowed an index to one build.
func TestNarrowWindowsBuild(t *testing.T) {
	t.Parallel()
	idx := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
		{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","platform":{"os":"linux","architecture":"amd64"}},
		{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","platform":{"os":"windows","architecture":"amd64","os.version":"10.0.17763.6054"}},
		{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:3333333333333333333333333333333333333333333333333333333333333333","platform":{"os":"windows","architecture":"amd64","os.version":"10.0.20348.2582"}}]}`)
	m := &manifest{Digest: digestOf(idx), Raw: idx}
	tests := []struct {
		platform string
		want     []string
		wantErr  bool
	}{
		{platform: "windows/amd64:10.0.17763", want: []string{"windows/amd64:10.0.17763.6054"}},
		{platform: "windows/amd64:10.0.17763.6054", want: []string{"windows/amd64:10.0.17763.6054"}},
		{platform: "windows/amd64", want: []string{"windows/amd64:10.0.17763.6054", "windows/amd64:10.0.20348.2582"}},
		{platform: "windows/amd64:10.0.1776", wantErr: true}, // a prefix of a build is not that build
		{platform: "windows/amd64:10.0.26100", wantErr: true},
	}
	for _, tt := range tests {
		p, err := parsePlatform(tt.platform)
		if err != nil {
			t.Fatal(err)
		}
		_, names, err := narrow(m, []v1.Platform{*p})
		if (err != nil) != tt.wantErr || !slices.Equal(names, tt.want) {
			t.Errorf("%s: kept %v, %v; want %v (error %v)", tt.platform, names, err, tt.want, tt.wantErr)
		}
	}
}

// TestParsePlatformNormalizes: --platform takes os and arch in any case and
// the architecture names docker info prints (x86_64, aarch64); they named
// no index entry ("no entry for platforms [Linux/x86_64]").
func TestParsePlatformNormalizes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Linux/AMD64":                   "linux/amd64",
		"linux/x86_64":                  "linux/amd64",
		"linux/aarch64":                 "linux/arm64",
		"linux/arm/v7":                  "linux/arm/v7",
		"Windows/amd64:10.0.17763.6054": "windows/amd64:10.0.17763.6054",
	} {
		p, err := parsePlatform(in)
		if err != nil || p.String() != want {
			t.Errorf("parsePlatform(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
}
