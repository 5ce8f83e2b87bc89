package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/inventory"
)

const dockerSock = "unix:///var/run/docker.sock"

// realDocker returns a Target for the machine's dockerd, or skips (fails
// with DROVER_REQUIRE_DOCKER=1) when it does not answer.
func realDocker(t *testing.T, registry string) Target {
	t.Helper()
	host := Target{Name: "local", Env: "test", Region: "r1", Registry: registry, Docker: dockerSock}
	c, err := client.New(client.WithHost(dockerSock))
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err = c.Ping(ctx, client.PingOptions{})
		cancel()
		_ = c.Close()
	}
	if err != nil {
		if os.Getenv("DROVER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("DROVER_REQUIRE_DOCKER=1 but the Docker daemon at %s does not answer: %v", dockerSock, err)
		}
		t.Skipf("no Docker daemon at %s (%v); set DROVER_REQUIRE_DOCKER=1 to make this a failure", dockerSock, err)
	}
	return host
}

// testRegistry serves go-containerregistry's registry on 127.0.0.1 (the
// daemon pulls from loopback over plain HTTP). wrap, if set, wraps it.
func testRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h := http.Handler(ggcrregistry.New(ggcrregistry.Logger(nilLogger())))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// uniqueRepo names a repository no other test (or earlier run) uses.
func uniqueRepo(t *testing.T, base string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "prewarm-test/" + base + "-" + hex.EncodeToString(b)
}

// pushImage pushes a small random image (layers x size bytes) as
// addr/repo:tag and returns its lock entry.
func pushImage(t *testing.T, addr, repo, tag string, layers, size int64) inventory.LockImage {
	t.Helper()
	return pushImageCreated(t, addr, repo, tag, layers, size, time.Now())
}

// pushImageCreated is pushImage with the image config's Created time set.
func pushImageCreated(t *testing.T, addr, repo, tag string, layers, size int64, created time.Time) inventory.LockImage {
	t.Helper()
	img, err := random.Image(size, layers)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: created.UTC()}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(addr + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	return inventory.LockImage{Name: repo[strings.LastIndex(repo, "/")+1:], Ref: ref.String(), Repository: repo, Tag: tag, Digest: d.String(), MediaType: string(mt)}
}

// cleanupRepos removes every image of addr/<repo> from the daemon when the
// test ends (forced: the test's own containers are removed first).
func cleanupRepos(t *testing.T, addr string, repos ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := client.New(client.WithHost(dockerSock))
		if err != nil {
			return
		}
		defer c.Close()
		for _, repo := range repos {
			f := make(client.Filters).Add("reference", addr+"/"+repo)
			res, err := c.ImageList(ctx, client.ImageListOptions{Filters: f})
			if err != nil {
				t.Logf("cleanup list %s: %v", repo, err)
				continue
			}
			for _, im := range res.Items {
				if _, err := c.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil && !isNotFoundErr(err) {
					t.Logf("cleanup remove %s: %v", im.ID, err)
				}
			}
		}
	})
}

func isNotFoundErr(err error) bool { return err != nil && isNotFound(err) }

// noBackoff retries at once (tests never sleep).
func noBackoff(int) time.Duration { return 0 }

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// calls counts Engine calls by method across every connection.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) add(m string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[m]++
}

func (c *calls) count(m string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[m]
}

// counting wraps an Engine and counts its calls.
type counting struct {
	Engine
	c *calls
}

func (e counting) ImageInspect(ctx context.Context, ref string, o ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	e.c.add("inspect")
	return e.Engine.ImageInspect(ctx, ref, o...)
}

func (e counting) ImagePull(ctx context.Context, ref string, o client.ImagePullOptions) (client.ImagePullResponse, error) {
	e.c.add("pull")
	return e.Engine.ImagePull(ctx, ref, o)
}

func (e counting) ImageTag(ctx context.Context, o client.ImageTagOptions) (client.ImageTagResult, error) {
	e.c.add("tag")
	return e.Engine.ImageTag(ctx, o)
}

// countingDial dials for real and counts every call made on the result.
func countingDial() (*calls, DialFunc) {
	c := &calls{n: map[string]int{}}
	return c, func(ctx context.Context, t Target) (Engine, error) {
		e, err := Dial(ctx, t)
		if err != nil {
			return nil, err
		}
		return counting{Engine: e, c: c}, nil
	}
}
