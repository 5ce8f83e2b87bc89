package dockersim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/moby/moby/client"
	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/dockersim/dockertest"
	"github.com/drover-dev/drover/internal/lab/netem"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startHost(t *testing.T, opts ...dockersim.Option) (*dockersim.Host, *client.Client) {
	t.Helper()
	h, err := dockersim.Start(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return h, dockertest.NewClient(t, h.Endpoint())
}

func TestStartRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  dockersim.Option
	}{
		{"empty name", dockersim.WithName("")},
		{"name with slash", dockersim.WithName("a/b")},
		{"negative bandwidth", dockersim.WithLink(netem.Link{BytesPerSec: -1})},
		{"negative extract rate", dockersim.WithExtractRate(-1)},
		{"negative disk", dockersim.WithDiskCapacity(-1)},
		{"zero downloads", dockersim.WithMaxConcurrentDownloads(0)},
		{"platform without arch", dockersim.WithPlatform("linux")},
		{"nil transport", dockersim.WithTransport(nil)},
		{"nil logger", dockersim.WithLogger(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := dockersim.Start(t.Context(), tt.opt)
			if err == nil {
				h.Close()
				t.Fatal("Start succeeded, want an error")
			}
		})
	}
}

// pullStream pulls ref through the moby client and returns the stream.
func pullStream(t *testing.T, cli *client.Client, ref string) []string {
	t.Helper()
	resp, err := cli.ImagePull(t.Context(), ref, client.ImagePullOptions{})
	if err != nil {
		t.Fatalf("pull %s: HTTP error %v", ref, err)
	}
	var out []string
	for m, err := range resp.JSONMessages(t.Context()) {
		if err != nil {
			t.Fatalf("pull %s: %v", ref, err)
		}
		if m.Error != nil {
			out = append(out, "error: "+m.Error.Message)
			continue
		}
		out = append(out, m.Status)
	}
	return out
}

func TestPullFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []dockersim.Option
		midKnob bool
		want    string
	}{
		{"mid-stream knob", nil, true, "error: unexpected EOF"},
		{"disk full", []dockersim.Option{dockersim.WithDiskCapacity(40 << 10)}, false, "no space left on device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := dockertest.StartRegistry(t, false)
			reg.Push(t, "app:1", dockertest.RandomImage(t, 32<<10, 2))
			h, cli := startHost(t, tt.opts...)
			h.FailPullMidStream(tt.midKnob)
			got := pullStream(t, cli, reg.Ref("app:1"))
			if len(got) < 3 || got[0] != "Pulling from app" || !slices.Contains(got, "Pulling fs layer") || !strings.Contains(got[len(got)-1], tt.want) {
				t.Fatalf("stream %q, want progress then %q", got, tt.want)
			}
			if _, err := cli.ImageInspect(t.Context(), reg.Ref("app:1")); err == nil {
				t.Error("image present after a failed pull")
			}
			if tt.midKnob {
				h.FailPullMidStream(false)
				if got := pullStream(t, cli, reg.Ref("app:1")); !strings.HasPrefix(got[len(got)-1], "Status: Downloaded newer image") {
					t.Errorf("pull with the knob off: %q", got)
				}
			}
		})
	}
}

func TestDiskCapacityCountsSharedLayersOnce(t *testing.T) {
	t.Parallel()
	reg := dockertest.StartRegistry(t, false)
	base := dockertest.RandomImage(t, 20<<10, 2)
	reg.Push(t, "app:1", base)
	reg.Push(t, "app:2", dockertest.AddLayer(t, base, 20<<10))
	// Room for three layers of ~20 KiB, not for two separate images.
	h, _ := startHost(t, dockersim.WithDiskCapacity(70<<10))
	for _, tag := range []string{"app:1", "app:2"} {
		if err := h.EnsureImage(t.Context(), reg.Ref(tag), false); err != nil {
			t.Fatalf("ensure %s: %v", tag, err)
		}
	}
	reg.Push(t, "other:1", dockertest.RandomImage(t, 20<<10, 1))
	err := h.EnsureImage(t.Context(), reg.Ref("other:1"), false)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("ensure a fourth layer = %v, want no space left", err)
	}
}

// EnsureImage leaves naming the image and host to its caller: the Rancher
// simulator's transitioningMessage said "pull R on H: pull R on H: ...".
func TestEnsureImageErrorNotPrefixed(t *testing.T) {
	t.Parallel()
	reg := dockertest.StartRegistry(t, false)
	h, _ := startHost(t)
	err := h.EnsureImage(t.Context(), reg.Ref("missing:1"), false)
	if err == nil || strings.HasPrefix(err.Error(), "pull ") {
		t.Errorf("ensure a missing image = %v, want the pull's own error", err)
	}
}

func TestDownAndHang(t *testing.T) {
	t.Parallel()
	h, cli := startHost(t)
	ctx := t.Context()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		t.Fatalf("ping: %v", err)
	}
	h.SetDown(true)
	cli2 := dockertest.NewClient(t, h.Endpoint()) // no pooled connection
	if _, err := cli2.Ping(ctx, client.PingOptions{}); err == nil || !strings.Contains(err.Error(), "Cannot connect to the Docker daemon") {
		t.Errorf("ping while down = %v, want cannot connect", err)
	}
	var d net.Dialer
	if c, err := d.DialContext(ctx, "tcp", h.Addr()); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Errorf("dial while down = %v, want connection refused", err)
	}
	h.SetDown(false)
	if _, err := cli2.Ping(ctx, client.PingOptions{}); err != nil {
		t.Errorf("ping after up: %v", err)
	}

	h.SetHang(true)
	hctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := cli2.ServerVersion(hctx, client.ServerVersionOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("version while hung = %v, want the caller's deadline", err)
	}
	h.SetHang(false)
	if _, err := cli2.ServerVersion(ctx, client.ServerVersionOptions{}); err != nil {
		t.Errorf("version after hang: %v", err)
	}
}

// recordingRegistry is a registry whose requests are logged by netem.
func recordingRegistry(t *testing.T) (*netem.Faults, string) {
	t.Helper()
	f := netem.NewFaults()
	srv := httptest.NewServer(f.Wrap(registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	t.Cleanup(srv.Close)
	return f, strings.TrimPrefix(srv.URL, "http://")
}

func TestEnsureImageStatsAndUserAgent(t *testing.T) {
	t.Parallel()
	faults, addr := recordingRegistry(t)
	reg := &dockertest.Registry{Addr: addr}
	img := dockertest.RandomImage(t, 16<<10, 3)
	reg.Push(t, "app:1", img)
	faults.ResetStats()
	h, cli := startHost(t, dockersim.WithName("dmz-eu-01"))
	ref := reg.Ref("app:1")
	ctx := t.Context()

	// Concurrent agents asking for the same image download each layer once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := h.EnsureImage(ctx, ref, false); err != nil {
				t.Errorf("ensure: %v", err)
			}
		})
	}
	wg.Wait()
	st := h.Stats()
	if st.LayersDownloaded != 3 {
		t.Errorf("LayersDownloaded = %d, want 3", st.LayersDownloaded)
	}
	m, _ := img.Manifest()
	var layerBytes int64
	for _, l := range m.Layers {
		layerBytes += l.Size
	}
	if got := st.BytesFetched[addr]; got < layerBytes || got > layerBytes+64<<10 {
		t.Errorf("BytesFetched[%s] = %d, want about %d", addr, got, layerBytes)
	}
	for _, e := range faults.Log() {
		if e.UserAgent != "drover-lab-host/dmz-eu-01" {
			t.Errorf("registry saw User-Agent %q on %s %s", e.UserAgent, e.Method, e.Path)
		}
	}

	// Present: no pull at all. Always: a pull that downloads nothing.
	if err := h.EnsureImage(ctx, ref, false); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats(); got.Pulls != st.Pulls || got.BytesFetched[addr] != st.BytesFetched[addr] {
		t.Errorf("ensure of a present image pulled: %+v -> %+v", st, got)
	}
	if err := h.EnsureImage(ctx, ref, true); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats(); got.Pulls != st.Pulls+1 || got.LayersDownloaded != 3 {
		t.Errorf("ensure always: Pulls %d LayersDownloaded %d, want %d and 3", got.Pulls, got.LayersDownloaded, st.Pulls+1)
	}
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats(); got.Inspects != 1 || got.Requests["GET /images/{name}/json"] != 1 {
		t.Errorf("Inspects = %d, Requests = %v, want 1", got.Inspects, got.Requests)
	}
}

func TestCredentialsNeverLogged(t *testing.T) {
	t.Parallel()
	reg := dockertest.StartRegistry(t, true)
	reg.Push(t, "private:1", dockertest.RandomImage(t, 1024, 1))
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, cli := startHost(t, dockersim.WithLogger(logger))
	const secret = "very-secret-password"
	auth := `{"username":"drover","password":"` + secret + `"}`
	for _, header := range []string{encode(auth), encode(`{"username":"drover","password":"` + dockertest.Password + `"}`)} {
		resp, err := cli.ImagePull(t.Context(), reg.Ref("private:1"), client.ImagePullOptions{RegistryAuth: header})
		if err == nil {
			_ = resp.Wait(t.Context())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if logs.Len() == 0 {
		t.Fatal("nothing logged: the test cannot see a leak")
	}
	for _, s := range []string{secret, dockertest.Password, encode(auth)} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("log contains a credential %q:\n%s", s, logs.String())
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestAgentContainers(t *testing.T) {
	t.Parallel()
	reg := dockertest.StartRegistry(t, false)
	reg.Push(t, "app:1", dockertest.RandomImage(t, 1024, 1))
	h, cli := startHost(t)
	ctx := t.Context()
	ref := reg.Ref("app:1")
	if _, err := h.CreateContainer("web-1", ref); !errors.Is(err, dockersim.ErrNotFound) {
		t.Fatalf("create before the image is there = %v, want ErrNotFound", err)
	}
	if err := h.EnsureImage(ctx, ref, false); err != nil {
		t.Fatal(err)
	}
	id, err := h.CreateContainer("web-1", ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateContainer("web-1", ref); !errors.Is(err, dockersim.ErrConflict) {
		t.Errorf("second container named web-1 = %v, want ErrConflict", err)
	}
	if err := h.StartContainer(id); err != nil {
		t.Fatal(err)
	}
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil || len(list.Items) != 1 || list.Items[0].State != "running" || list.Items[0].Names[0] != "/web-1" {
		t.Fatalf("container list = %+v, %v; want web-1 running", list.Items, err)
	}
	img, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	// Running: a conflict even by ID and with force.
	if _, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: true}); err == nil || !strings.Contains(err.Error(), "image is being used by running container "+id[:12]) {
		t.Errorf("force remove by ID of a running image = %v, want a hard conflict", err)
	}
	if err := h.RemoveContainer(id); !errors.Is(err, dockersim.ErrConflict) {
		t.Errorf("remove running container = %v, want ErrConflict", err)
	}
	if err := h.StopContainer(id); err != nil {
		t.Fatal(err)
	}
	// Stopped: still protected without force.
	if _, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{}); err == nil || !strings.Contains(err.Error(), "image is being used by stopped container "+id[:12]) {
		t.Errorf("remove by ID of a stopped container's image = %v, want a conflict", err)
	}
	if err := h.RemoveContainer(id); err != nil {
		t.Fatal(err)
	}
	rm, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{})
	if err != nil || len(rm.Items) != 4 || rm.Items[2].Deleted != img.ID {
		t.Errorf("remove by ID = %+v, %v; want two untags, the image and its layer", rm.Items, err)
	}
}

func TestVersionedPaths(t *testing.T) {
	t.Parallel()
	h, _ := startHost(t)
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/version", http.StatusOK, `"ApiVersion":"1.41"`},
		{"/v1.24/images/json", http.StatusOK, `[]`},
		{"/v1.41/images/nothing:1/json", http.StatusNotFound, `{"message":"no such image: nothing:1: No such image: nothing:1"}`},
		{"/v1.99/version", http.StatusBadRequest, `client version 1.99 is too new. Maximum supported API version is 1.41`},
		{"/v1.41/nowhere", http.StatusNotFound, `page not found`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+h.Addr()+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) || resp.Header.Get("Api-Version") != dockersim.APIVersion {
				t.Errorf("GET %s = %d %s (Api-Version %q), want %d containing %s", tt.path, resp.StatusCode, body, resp.Header.Get("Api-Version"), tt.wantStatus, tt.wantBody)
			}
		})
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestLinkShapesDownloads(t *testing.T) {
	t.Parallel()
	reg := dockertest.StartRegistry(t, false)
	reg.Push(t, "app:1", dockertest.RandomImage(t, 100<<10, 1))
	h, _ := startHost(t, dockersim.WithLink(netem.Link{BytesPerSec: 400 << 10}))
	start := time.Now()
	if err := h.EnsureImage(t.Context(), reg.Ref("app:1"), false); err != nil {
		t.Fatal(err)
	}
	// 100 KiB at 400 KiB/s takes at least ~250 ms.
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("pull over a 400 KiB/s link took %v, want >= 200ms", d)
	}
}

func encode(s string) string {
	return base64URL(s)
}

// Agents creating several containers of one image at once on one host race
// on each layer: one downloads it, the others either wait for that download
// or find the layer already stored. Every path must end (a lock held past
// the "already stored" check once hung the second pull forever).
func TestConcurrentPullsOfOneImageEnd(t *testing.T) {
	t.Parallel()
	_, addr := recordingRegistry(t)
	reg := &dockertest.Registry{Addr: addr}
	for i := range 20 {
		ref := reg.Ref(fmt.Sprintf("app:%d", i))
		reg.Push(t, fmt.Sprintf("app:%d", i), dockertest.RandomImage(t, 8<<10, 3))
		h, _ := startHost(t)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if err := h.EnsureImage(ctx, ref, false); err != nil {
					t.Errorf("round %d: ensure: %v", i, err)
				}
			})
		}
		wg.Wait()
		cancel()
		if got := h.Stats().LayersDownloaded; got != 3 {
			t.Errorf("round %d: LayersDownloaded = %d, want 3", i, got)
		}
	}
}

// Preload stores an image as a pull would (inspectable, tagged, on disk)
// without fetching its layer blobs; a later pull of a version sharing the
// base finds those layers already there.
func TestPreload(t *testing.T) {
	t.Parallel()
	faults, addr := recordingRegistry(t)
	reg := &dockertest.Registry{Addr: addr}
	img := dockertest.RandomImage(t, 64<<10, 3)
	reg.Push(t, "app:1", img)
	faults.ResetStats()
	h, cli := startHost(t, dockersim.WithExtractRate(1)) // 1 B/s: an extract would never end
	ref := reg.Ref("app:1")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := h.Preload(ctx, ref); err != nil {
		t.Fatal(err)
	}
	got, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	cfgName, _ := img.ConfigName()
	if got.ID != cfgName.String() || len(got.RootFS.Layers) != 3 || len(got.RepoDigests) != 1 {
		t.Errorf("inspect after preload: Id %s, %d layers, RepoDigests %v; want %s, 3, one", got.ID, len(got.RootFS.Layers), got.RepoDigests, cfgName)
	}
	if st := h.Stats(); st.Pulls != 0 || st.LayersDownloaded != 0 {
		t.Errorf("preload counted as traffic: %+v", st)
	}
	var blobGets []string
	for _, e := range faults.Log() {
		if e.Class == netem.ClassBlobs && e.Method == http.MethodGet {
			blobGets = append(blobGets, e.Path)
		}
	}
	if len(blobGets) != 1 || !strings.HasSuffix(blobGets[0], cfgName.String()) {
		t.Errorf("preload fetched blobs %v, want the config %s only", blobGets, cfgName)
	}
	if err := h.EnsureImage(ctx, ref, false); err != nil || h.Stats().Pulls != 0 {
		t.Errorf("ensure after preload: %v, %d pulls; want present, none", err, h.Stats().Pulls)
	}
}
