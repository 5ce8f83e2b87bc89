package dockertest

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is a go-containerregistry registry on 127.0.0.1 for the suite.
// Layer blobs of repositories whose path contains "/corrupt/" are served
// with flipped bytes (the digest check then fails mid-pull). A private
// registry wants Basic auth User:Password on every request.
type Registry struct {
	Addr string
	srv  *httptest.Server
}

// Credentials of the private repositories.
const (
	User     = "drover"
	Password = "lab-secret"
)

// StartRegistry starts a Registry; t.Cleanup closes it.
func StartRegistry(t testing.TB, private bool) *Registry {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if private {
			u, p, ok := r.BasicAuth()
			if !ok || u != User || p != Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="dockertest"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
				return
			}
		}
		if strings.Contains(r.URL.Path, "/corrupt/") && strings.Contains(r.URL.Path, "/blobs/sha256:") && r.Method == http.MethodGet {
			rec := httptest.NewRecorder()
			reg.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			// Config blobs are small JSON: leave them; corrupt layers.
			if rec.Code == http.StatusOK && len(body) > 0 && body[0] != '{' {
				body = bytes.Clone(body)
				for i := len(body) / 2; i < len(body); i++ {
					body[i] ^= 0xff
				}
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
			return
		}
		reg.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Registry{Addr: strings.TrimPrefix(srv.URL, "http://"), srv: srv}
}

// Ref returns "addr/repo:tag".
func (r *Registry) Ref(repoTag string) string { return r.Addr + "/" + repoTag }

// Push pushes img as repoTag ("repo:tag").
func (r *Registry) Push(t testing.TB, repoTag string, img v1.Image) {
	t.Helper()
	ref, err := name.ParseReference(r.Ref(repoTag))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: User, Password: Password})); err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
}

// PushIndex pushes idx as repoTag.
func (r *Registry) PushIndex(t testing.TB, repoTag string, idx v1.ImageIndex) {
	t.Helper()
	ref, err := name.ParseReference(r.Ref(repoTag))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithAuth(&authn.Basic{Username: User, Password: Password})); err != nil {
		t.Fatalf("push index %s: %v", repoTag, err)
	}
}

// RandomImage is a random Docker image with n layers of size bytes each.
func RandomImage(t testing.TB, size int64, n int) v1.Image {
	t.Helper()
	img, err := random.Image(size, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.ConfigFile(img, withPlatform(t, img, "linux", "amd64"))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// AddLayer returns img plus one random layer of size bytes.
func AddLayer(t testing.TB, img v1.Image, size int64) v1.Image {
	t.Helper()
	l, err := random.Layer(size, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	out, err := mutate.AppendLayers(img, l)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// PlatformIndex is an index of one small random image per platform
// ("os/arch"), returned with the images in the same order.
func PlatformIndex(t testing.TB, platforms ...string) (v1.ImageIndex, []v1.Image) {
	t.Helper()
	var adds []mutate.IndexAddendum
	var imgs []v1.Image
	for _, p := range platforms {
		os, arch, _ := strings.Cut(p, "/")
		img, err := random.Image(2048, 1)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.ConfigFile(img, withPlatform(t, img, os, arch)); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: os, Architecture: arch}}})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.DockerManifestList)
	return idx, imgs
}

func withPlatform(t testing.TB, img v1.Image, os, arch string) *v1.ConfigFile {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = os, arch
	return cf
}
