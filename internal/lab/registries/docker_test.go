package registries

import (
	"context"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/internal/lab/netem"
)

const dockerSock = "/var/run/docker.sock"

// dockerClient connects to the machine's dockerd, or skips the test when it
// is unreachable (fails instead with DROVER_REQUIRE_DOCKER=1).
func dockerClient(t *testing.T) *client.Client {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(t.Context(), "unix", dockerSock)
	if err != nil {
		if os.Getenv("DROVER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("real Docker daemon required (DROVER_REQUIRE_DOCKER=1) but %s is unreachable: %v", dockerSock, err)
		}
		t.Skipf("real Docker daemon unreachable at %s (%v); set DROVER_REQUIRE_DOCKER=1 to fail instead", dockerSock, err)
	}
	c.Close()
	cli, err := client.New(client.WithHost("unix://" + dockerSock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// TestRealDockerPullsSeededImages: the machine's dockerd pulls what Seed
// pushes (gzip'd tars it can extract) and picks linux/amd64 from the
// manifest list. A Linux dockerd never follows a foreign layer's URLs
// (moby's pull_v2_unix.go opens every layer from the registry; only Windows
// daemons try the URLs), so it cannot pull the Foreign image from a
// registry that lacks that blob: pinned here, as real behaviour.
func TestRealDockerPullsSeededImages(t *testing.T) {
	t.Parallel()
	cli := dockerClient(t)
	r := start(t)
	seeded, err := Seed(t.Context(), r.Addr(), SeedSpec{
		Images: []string{"app:1.0"}, Size: 64 << 10, Layers: 2, MultiArch: "app:multi", Foreign: "win:1",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seeded {
		ref := r.Addr() + "/" + s.Ref
		if s.Ref == "win:1" {
			continue
		}
		t.Cleanup(func() {
			// Best effort, on a fresh context: the test's is done.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, _ = cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		})
		resp, err := cli.ImagePull(t.Context(), ref, client.ImagePullOptions{})
		if err != nil {
			t.Fatalf("pull %s: %v", ref, err)
		}
		if err := resp.Wait(t.Context()); err != nil {
			t.Fatalf("pull %s: %v", ref, err)
		}
		ins, err := cli.ImageInspect(t.Context(), ref)
		if err != nil {
			t.Fatalf("inspect %s: %v", ref, err)
		}
		if want := r.Addr() + "/" + s.Repository + "@" + s.Digest; !slices.Contains(ins.RepoDigests, want) {
			t.Errorf("%s: RepoDigests %v lack %s", ref, ins.RepoDigests, want)
		}
		if ins.Os != "linux" || len(ins.RootFS.Layers) != 2 {
			t.Errorf("%s: os %s, %d layers", ref, ins.Os, len(ins.RootFS.Layers))
		}
	}
	ref := r.Addr() + "/win:1"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	})
	resp, err := cli.ImagePull(t.Context(), ref, client.ImagePullOptions{})
	if err == nil {
		err = resp.Wait(t.Context())
	}
	if err == nil {
		t.Fatalf("a Linux dockerd pulled %s although its foreign layer is only at its URL", ref)
	}
	if err := r.Faults().Idle(t.Context()); err != nil {
		t.Fatal(err)
	}
	foreign := seeded[len(seeded)-1].Layers[0]
	askedRegistry, followedURL := false, false
	for _, e := range r.Log() {
		askedRegistry = askedRegistry || (e.Class == netem.ClassBlobs && e.Ref == foreign && e.Status == http.StatusNotFound)
		followedURL = followedURL || strings.HasPrefix(e.Path, foreignPrefix)
	}
	if !askedRegistry || followedURL {
		t.Errorf("foreign layer: asked the registry %v (want true), followed the URL %v (want false)", askedRegistry, followedURL)
	}
}
