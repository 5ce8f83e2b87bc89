package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/inventory"
)

// startDockerd runs an extra real dockerd as a separate "host": its own
// data-root, exec-root, pidfile, socket and managed containerd (namespaced),
// no networking, vfs storage (fine for small images, works on any
// filesystem). It is stopped and its directory removed at cleanup. Safe to
// call from several goroutines (it reports errors, never t.Fatal).
func startDockerd(t *testing.T, name string) (Target, error) {
	dir, err := os.MkdirTemp("/tmp", "pw-"+name+"-") // short: unix socket paths are limited
	if err != nil {
		return Target{}, err
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove %s: %v", dir, err)
		}
	})
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte("{}\n"), 0o600); err != nil {
		return Target{}, err
	}
	sock := "unix://" + filepath.Join(dir, "d.sock")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		return Target{}, err
	}
	cmd := exec.CommandContext(context.WithoutCancel(t.Context()), "dockerd", // stopped by the cleanup below, after the test's context ends
		"--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "x"),
		"--pidfile", filepath.Join(dir, "pid"), "-H", sock, "--config-file", cfg,
		"--bridge=none", "--iptables=false", "--ip-masq=false", "--storage-driver", "vfs",
		"--containerd-namespace", "pw-"+name, "--containerd-plugins-namespace", "pw-"+name+"-p")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return Target{}, fmt.Errorf("start dockerd %s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case werr := <-exited:
			t.Logf("dockerd %s stopped: %v", name, werr)
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // dockerd and its containerd
			t.Logf("dockerd %s killed: %v", name, <-exited)
		}
		_ = logf.Close()
	})

	c, err := client.New(client.WithHost(sock))
	if err != nil {
		return Target{}, err
	}
	defer c.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := c.Ping(ctx, client.PingOptions{})
		cancel()
		if err == nil {
			break
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			return Target{}, fmt.Errorf("dockerd %s exited: %w\n%s", name, err, log)
		case <-time.After(200 * time.Millisecond): // polling the daemon's socket until it answers
		}
		if time.Now().After(deadline) {
			return Target{}, fmt.Errorf("dockerd %s did not answer on %s within 60s: %w", name, sock, err)
		}
	}
	return Target{Name: name, Env: "fleet", Region: "r1", Docker: sock}, nil
}

// manifestGets counts GETs of manifests by digest, per User-Agent.
type manifestGets struct {
	mu sync.Mutex
	n  map[string]int
}

func (m *manifestGets) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/sha256:") {
			m.mu.Lock()
			m.n[r.URL.Path]++
			m.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// TestFleetRealDaemons prewarms the machine's dockerd and three extra real
// daemons at once from one registry.
func TestFleetRealDaemons(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts three dockerd processes; skipped with -short")
	}
	gets := &manifestGets{n: map[string]int{}}
	addr := testRegistry(t, gets.wrap)
	local := realDocker(t, addr)
	if os.Geteuid() != 0 {
		t.Skip("extra dockerd instances need root")
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Skip("no dockerd binary")
	}
	hosts := make([]Target, 4)
	hosts[0] = local
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := 1; i < 4; i++ {
		wg.Go(func() {
			hosts[i], errs[i] = startDockerd(t, fmt.Sprintf("d%d", i))
			hosts[i].Registry = addr
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	repoA, repoB := uniqueRepo(t, "fleet"), uniqueRepo(t, "fleet-side")
	cleanupRepos(t, addr, repoA, repoB)
	lock := &inventory.Lock{Images: []inventory.LockImage{
		pushImage(t, addr, repoA, "1.0", 3, 256<<10),
		pushImage(t, addr, repoB, "1.0", 1, 64<<10),
	}}

	rep, err := Pull(t.Context(), hosts, lock, WithRegistryLimit(4), WithBackoff(noBackoff))
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	for _, h := range rep.Hosts {
		if !h.Ready || h.Bytes == 0 {
			t.Errorf("host %s: ready %v bytes %d", h.Name, h.Ready, h.Bytes)
		}
	}
	m, err := Status(t.Context(), hosts, lock)
	if err != nil {
		t.Fatal(err)
	}
	if !m.AllPresent() {
		t.Errorf("not all present: %+v", m.Hosts)
	}
	for _, im := range lock.Images {
		path := "/v2/" + im.Repository + "/manifests/" + im.Digest
		gets.mu.Lock()
		n := gets.n[path]
		gets.mu.Unlock()
		if n < len(hosts) {
			t.Errorf("%s fetched %d times, want once per daemon (%d)", path, n, len(hosts))
		}
	}
}
