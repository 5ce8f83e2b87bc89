package fleet

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/inventory"
)

// These tests run against the machine's real dockerd (see realDocker).

func inspectReal(t *testing.T, ref string) (client.ImageInspectResult, error) {
	t.Helper()
	c, err := client.New(client.WithHost(dockerSock))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ImageInspect(t.Context(), ref)
}

func TestPullRealDocker(t *testing.T) {
	t.Parallel()
	addr := testRegistry(t, nil)
	host := realDocker(t, addr)
	repoA, repoB := uniqueRepo(t, "app"), uniqueRepo(t, "sidecar")
	cleanupRepos(t, addr, repoA, repoB)
	lock := &inventory.Lock{Version: 1, Images: []inventory.LockImage{
		pushImage(t, addr, repoA, "1.0", 2, 64<<10),
		pushImage(t, addr, repoB, "2.0", 1, 32<<10),
	}}

	var mu sync.Mutex
	var maxBytes int64
	phases := map[string]bool{}
	rep, err := Pull(t.Context(), []Target{host}, lock, WithBackoff(noBackoff), WithProgress(func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		phases[p.Phase] = true
		if p.Phase == "pulling" {
			maxBytes = max(maxBytes, p.Current)
		}
	}))
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if !rep.Hosts[0].Ready || len(rep.Failed()) != 0 {
		t.Fatalf("host not ready: %+v", rep.Hosts[0])
	}
	for _, ir := range rep.Hosts[0].Images {
		if ir.Action != ActionPulled || ir.Source != addr || ir.Bytes == 0 {
			t.Errorf("image %s: action %s source %s bytes %d, want pulled from %s with bytes", ir.Name, ir.Action, ir.Source, ir.Bytes, addr)
		}
	}
	for _, ph := range []string{"checking", "waiting", "pulling", "tagging", "done"} {
		if !phases[ph] {
			t.Errorf("no progress event with phase %q (got %v)", ph, phases)
		}
	}
	if maxBytes == 0 {
		t.Errorf("progress never reported downloaded bytes")
	}
	for _, im := range lock.Images {
		w := LockWant(addr, im)
		res, err := inspectReal(t, w.Ref)
		if err != nil {
			t.Fatalf("deploy ref %s not on the daemon: %v", w.Ref, err)
		}
		if !slices.Contains(res.RepoDigests, w.Pull) {
			t.Errorf("%s RepoDigests %v, want %s", w.Ref, res.RepoDigests, w.Pull)
		}
	}

	m, err := Status(t.Context(), []Target{host}, lock)
	if err != nil {
		t.Fatal(err)
	}
	if !m.AllPresent() {
		t.Errorf("status after pull: %+v", m.Hosts)
	}

	// Second run: one inspect per image, no pull, no tag.
	calls, dial := countingDial()
	rep, err = Pull(t.Context(), []Target{host}, lock, WithDial(dial))
	if err != nil {
		t.Fatalf("second Pull: %v", err)
	}
	if got := calls.count("inspect"); got != len(lock.Images) {
		t.Errorf("second run made %d inspect calls, want %d", got, len(lock.Images))
	}
	if got := calls.count("pull") + calls.count("tag"); got != 0 {
		t.Errorf("second run made %d pull/tag calls, want 0", got)
	}
	for _, ir := range rep.Hosts[0].Images {
		if ir.Action != ActionPresent {
			t.Errorf("second run %s: action %s, want present", ir.Name, ir.Action)
		}
	}
}

func TestStatusWrongDigestThenPullFixes(t *testing.T) {
	t.Parallel()
	addr := testRegistry(t, nil)
	host := realDocker(t, addr)
	repo := uniqueRepo(t, "moved")
	cleanupRepos(t, addr, repo)
	old := pushImage(t, addr, repo, "1.0", 1, 16<<10)
	cur := pushImage(t, addr, repo, "1.0", 1, 16<<10) // the tag moved in the registry
	// The host holds the old bits under the deploy ref.
	if _, err := Pull(t.Context(), []Target{host}, &inventory.Lock{Images: []inventory.LockImage{old}}); err != nil {
		t.Fatal(err)
	}
	lock := &inventory.Lock{Images: []inventory.LockImage{cur}}
	m, err := Status(t.Context(), []Target{host}, lock)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Hosts[0].Cells[0]
	if c.State != StateWrongDigest || !slices.ContainsFunc(c.Got, func(s string) bool { return strings.HasSuffix(s, old.Digest) }) {
		t.Fatalf("cell %+v, want wrong-digest holding %s", c, old.Digest)
	}
	rep, err := Pull(t.Context(), []Target{host}, lock)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if a := rep.Hosts[0].Images[0].Action; a != ActionPulled {
		t.Errorf("action %s, want pulled", a)
	}
	if m, _ = Status(t.Context(), []Target{host}, lock); !m.AllPresent() {
		t.Errorf("after pull: %+v", m.Hosts[0].Cells)
	}
}

// corruptor flips bytes in the first n GETs of the armed blobs while
// keeping the length: the daemon has already answered 200 and streamed
// progress when its digest check fails, so the failure arrives as an
// errorDetail line (and the daemon does not retry a verification failure).
type corruptor struct {
	mu      sync.Mutex
	n       int
	digests []string
	served  int
}

func (c *corruptor) arm(n int, digests ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.digests = n, digests
}

func (c *corruptor) gets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.served
}

func (c *corruptor) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		bad := false
		if r.Method == http.MethodGet && slices.ContainsFunc(c.digests, func(d string) bool { return strings.HasSuffix(r.URL.Path, "/blobs/"+d) }) {
			c.served++
			bad = c.served <= c.n
		}
		c.mu.Unlock()
		if bad {
			w = &flipWriter{ResponseWriter: w}
		}
		next.ServeHTTP(w, r)
	})
}

type flipWriter struct {
	http.ResponseWriter
	n int
}

func (f *flipWriter) Write(p []byte) (int, error) {
	q := append([]byte(nil), p...)
	for i := range q {
		if f.n+i > 64 { // keep the gzip header, ruin the rest
			q[i] ^= 0xff
		}
	}
	f.n += len(p)
	return f.ResponseWriter.Write(q)
}

func TestPullFailsMidStreamRealDocker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		badGets    int
		retries    int
		wantErr    error
		wantAction string
	}{
		{name: "always corrupt fails after retries", badGets: 1 << 30, retries: 1, wantErr: ErrPullStream, wantAction: ActionFailed},
		{name: "corrupt once then retried", badGets: 1, retries: 2, wantAction: ActionPulled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cor := &corruptor{}
			addr := testRegistry(t, cor.wrap)
			host := realDocker(t, addr)
			repo := uniqueRepo(t, "cut")
			cleanupRepos(t, addr, repo)
			im := pushImage(t, addr, repo, "1.0", 1, 256<<10)
			cor.arm(tc.badGets, layerDigests(t, addr, im)...)
			served := cor.gets

			rep, err := Pull(t.Context(), []Target{host}, &inventory.Lock{Images: []inventory.LockImage{im}},
				WithRetries(tc.retries), WithBackoff(noBackoff))
			ir := rep.Hosts[0].Images[0]
			if ir.Action != tc.wantAction {
				t.Fatalf("action %s (err %v), want %s", ir.Action, err, tc.wantAction)
			}
			if tc.wantErr == nil {
				if err != nil || !rep.Hosts[0].Ready {
					t.Fatalf("err %v ready %v", err, rep.Hosts[0].Ready)
				}
				if ir.Attempts != 2 {
					t.Errorf("attempts %d, want 2", ir.Attempts)
				}
				return
			}
			var he *HostError
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &he) || he.Host != host.Name {
				t.Fatalf("err %v, want %v naming host %s", err, tc.wantErr, host.Name)
			}
			if ir.Attempts != tc.retries+1 || served() < tc.retries+1 {
				t.Errorf("attempts %d, blob GETs %d; want %d each", ir.Attempts, served(), tc.retries+1)
			}
			if got := rep.Failed(); !slices.Equal(got, []string{host.Name}) {
				t.Errorf("Failed() = %v", got)
			}
			if _, err := inspectReal(t, LockWant(addr, im).Ref); err == nil {
				t.Errorf("deploy ref exists after a failed pull")
			}
		})
	}
}

// layerDigests lists the layer digests of a pushed image.
func layerDigests(t *testing.T, addr string, im inventory.LockImage) []string {
	t.Helper()
	ref, err := name.ParseReference(addr + "/" + im.Repository + "@" + im.Digest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.String())
	}
	return out
}

func TestPullFallbackSourceRealDocker(t *testing.T) {
	t.Parallel()
	region := testRegistry(t, nil)
	source := testRegistry(t, nil)
	host := realDocker(t, region)
	repo := uniqueRepo(t, "fb")
	cleanupRepos(t, region, repo)
	cleanupRepos(t, source, repo)
	im := pushImage(t, source, repo, "1.0", 1, 16<<10) // only the source has it
	lock := &inventory.Lock{Images: []inventory.LockImage{im}}

	_, err := Pull(t.Context(), []Target{host}, lock, WithBackoff(noBackoff))
	if !errors.Is(err, ErrNotInRegion) {
		t.Fatalf("without fallback: err %v, want ErrNotInRegion", err)
	}
	rep, err := Pull(t.Context(), []Target{host}, lock, WithBackoff(noBackoff), WithFallbackSource(source))
	if err != nil {
		t.Fatalf("with fallback: %v", err)
	}
	if ir := rep.Hosts[0].Images[0]; ir.Source != source || ir.Action != ActionPulled {
		t.Errorf("image report %+v, want pulled from %s", ir, source)
	}
	if m, _ := Status(t.Context(), []Target{host}, lock); !m.AllPresent() {
		t.Errorf("deploy ref %s not present after fallback pull: %+v", LockWant(region, im).Ref, m.Hosts[0].Cells)
	}
}

// A host that refuses connections and one that never answers fail, each
// named; the real host is done anyway.
func TestPullDownAndHungHostsRealDocker(t *testing.T) {
	t.Parallel()
	addr := testRegistry(t, nil)
	good := realDocker(t, addr)
	repo := uniqueRepo(t, "mixed")
	cleanupRepos(t, addr, repo)
	lock := &inventory.Lock{Images: []inventory.LockImage{pushImage(t, addr, repo, "1.0", 1, 16<<10)}}

	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hung.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	hosts := []Target{
		good,
		{Name: "hung", Env: "test", Registry: addr, Docker: "tcp://" + strings.TrimPrefix(hung.URL, "http://")},
		{Name: "down", Env: "test", Registry: addr, Docker: "tcp://" + strings.TrimPrefix(downURL, "http://")},
	}
	rep, err := Pull(t.Context(), hosts, lock, WithTimeout(time.Second), WithBackoff(noBackoff))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable", err)
	}
	if got := rep.Failed(); !slices.Equal(got, []string{"down", "hung"}) {
		t.Errorf("Failed() = %v, want [down hung]", got)
	}
	if !rep.Hosts[0].Ready {
		t.Errorf("the reachable host is not ready: %+v", rep.Hosts[0])
	}
	for _, name := range []string{"down", "hung"} {
		if !strings.Contains(err.Error(), "on "+name+" ") {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if d := rep.Hosts[1].Seconds; d < 1 || d > 10 {
		t.Errorf("hung host took %vs, want about the 1s timeout", d)
	}
}
