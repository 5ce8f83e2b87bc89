package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

// lab is a source and regional registries from internal/lab/registries
// (distribution v3 on 127.0.0.1, with counters and fault knobs).
type lab struct {
	src     *registries.Registry
	regions map[string]*registries.Registry
	sleeps  *sleepLog
}

func newLab(t *testing.T, n int, opts ...registries.Option) *lab {
	t.Helper()
	l := &lab{regions: map[string]*registries.Registry{}, sleeps: &sleepLog{}}
	l.src = startRegistry(t)
	for i := range n {
		l.regions[fmt.Sprintf("r%d", i+1)] = startRegistry(t, opts...)
	}
	return l
}

func startRegistry(t *testing.T, opts ...registries.Option) *registries.Registry {
	t.Helper()
	r, err := registries.Start(t.Context(), append([]registries.Option{registries.WithDir(t.TempDir())}, opts...)...)
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func (l *lab) seed(t *testing.T, spec registries.SeedSpec) map[string]registries.Seeded {
	t.Helper()
	seeded, err := registries.Seed(t.Context(), l.src.Addr(), spec)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	out := map[string]registries.Seeded{}
	for _, s := range seeded {
		out[s.Ref] = s
	}
	l.src.Faults().ResetStats()
	return out
}

func (l *lab) source() inventory.Registry {
	return inventory.Registry{Address: l.src.Addr(), Insecure: true}
}

func (l *lab) inv() map[string]inventory.Registry {
	m := map[string]inventory.Registry{}
	for name, r := range l.regions {
		m[name] = inventory.Registry{Address: r.Addr(), Insecure: true}
	}
	return m
}

func (l *lab) resetStats() {
	l.src.Faults().ResetStats()
	for _, r := range l.regions {
		r.Faults().ResetStats()
	}
}

// opts are the options every test uses: retries without real sleeping.
func (l *lab) opts(more ...Option) []Option {
	return append([]Option{WithRetry(4, time.Millisecond, 8*time.Millisecond), l.sleeps.option()}, more...)
}

func (l *lab) lock(t *testing.T, refs []string, opts ...Option) *inventory.Lock {
	t.Helper()
	rel := &inventory.Release{Version: 1}
	for _, ref := range refs {
		rel.Images = append(rel.Images, inventory.ReleaseImage{Name: ref, Ref: l.src.Addr() + "/" + ref})
	}
	lock, err := Resolve(t.Context(), l.source(), rel, l.opts(opts...)...)
	if err != nil {
		t.Fatalf("resolve %v: %v", refs, err)
	}
	return lock
}

// sleepLog records the waits between retries instead of sleeping.
type sleepLog struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (s *sleepLog) option() Option {
	return func(o *options) error {
		o.sleep = func(ctx context.Context, d time.Duration) error {
			s.mu.Lock()
			s.sleeps = append(s.sleeps, d)
			s.mu.Unlock()
			return ctx.Err()
		}
		return nil
	}
}

func (s *sleepLog) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.sleeps...)
}

// getManifest fetches a manifest's exact bytes over plain HTTP.
func getManifest(t *testing.T, addr, repo, ref string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/v2/"+repo+"/manifests/"+ref, nil)
	req.Header.Set("Accept", manifestAccept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("get manifest: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// blobSizes lists every blob (config and layers, all platforms) of a
// manifest at the source, foreign layers excluded.
func blobSizes(t *testing.T, addr, repo, digest string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	_, raw := getManifest(t, addr, repo, digest)
	var doc struct {
		Manifests []struct{ Digest string }
		Config    struct {
			Digest string
			Size   int64
		}
		Layers []struct {
			Digest, MediaType string
			Size              int64
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("manifest %s: %v", digest, err)
	}
	for _, m := range doc.Manifests {
		for d, s := range blobSizes(t, addr, repo, m.Digest) {
			out[d] = s
		}
	}
	if doc.Config.Digest != "" {
		out[doc.Config.Digest] = doc.Config.Size
	}
	for _, l := range doc.Layers {
		if !blob(blob{MediaType: l.MediaType}).foreign() {
			out[l.Digest] = l.Size
		}
	}
	return out
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// uploaded is the blob bytes a registry received in uploads.
func uploaded(r *registries.Registry) int64 {
	return r.Stats().Get("", netem.ClassUploads).BytesIn
}

// served is the blob bytes a registry served.
func served(r *registries.Registry) int64 {
	return r.Stats().Get(http.MethodGet, netem.ClassBlobs).BytesOut
}

func inventoryRegistry(addr string) inventory.Registry {
	return inventory.Registry{Address: addr, Insecure: true}
}

// copyImage copies src to dst inside one registry with go-containerregistry.
func copyImage(t *testing.T, addr, src, dst string) {
	t.Helper()
	if err := crane.Copy(addr+"/"+src, addr+"/"+dst, crane.Insecure, crane.WithContext(t.Context())); err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

func childDigests(t *testing.T, index []byte) []string {
	t.Helper()
	var idx struct{ Manifests []struct{ Digest string } }
	if err := json.Unmarshal(index, &idx); err != nil {
		t.Fatalf("index: %v", err)
	}
	var out []string
	for _, m := range idx.Manifests {
		out = append(out, m.Digest)
	}
	return out
}

func headBlob(t *testing.T, addr, repo, digest string) (int, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, "http://"+addr+"/v2/"+repo+"/blobs/"+digest, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("head blob: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
