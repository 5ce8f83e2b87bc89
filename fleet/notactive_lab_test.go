package fleet

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rancher/dockersocket"
)

// discoverLogged is Discover of environment env over the lab's Rancher,
// its client logging every request (at debug) to the returned buffer.
func discoverLogged(t *testing.T, l *lab.Lab, env string) ([]Target, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer // slog's handler serializes its writes
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inv := l.Inventory()
	hosts, err := Discover(t.Context(), inv, Selection{Envs: []string{env}}, func(e *inventory.Environment) (RancherHosts, string, error) {
		return rancher.Connect(inv, e.Name, l.Getenv, rancher.WithLogger(logger))
	})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return hosts, &log
}

// checkNotActive runs pull, status and prune on hosts, of which down is
// the one Rancher does not report active (Rancher saying said): it is a
// target, reported not ready (a failed pull, unreachable cells, a failed
// prune) naming it, its environment and why, counted as unreachable, and
// never reached; the other host is pulled and present. dockerCalls counts
// what reached down's Docker endpoint.
func checkNotActive(t *testing.T, l *lab.Lab, hosts []Target, down, env, said string, dockerCalls func() int) {
	t.Helper()
	if len(hosts) != 2 {
		t.Fatalf("%d targets, want 2 (the host Rancher does not report active is one)", len(hosts))
	}
	lock := labLock(l)
	want := "host " + down + " (" + env + "): Rancher says " + said
	rep, err := Pull(t.Context(), hosts, lock, WithBackoff(noBackoff))
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, dockersocket.ErrHostNotActive) || !strings.Contains(err.Error(), want) {
		t.Errorf("Pull: %v, want ErrUnreachable and ErrHostNotActive saying %q", err, want)
	}
	if got := rep.Failed(); len(got) != 1 || got[0] != down {
		t.Errorf("pull: not ready %v, want [%s]", got, down)
	}
	for _, h := range rep.Hosts {
		if h.Name != down {
			continue
		}
		if len(h.Images) != len(lock.Images) {
			t.Errorf("pull: %s has %d images, want each of the lock's %d failed", down, len(h.Images), len(lock.Images))
		}
		for _, im := range h.Images {
			if im.Action != ActionFailed || !strings.Contains(im.Error, "Rancher says "+said) {
				t.Errorf("pull: %s %s: %s %q, want failed saying why", down, im.Name, im.Action, im.Error)
			}
		}
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "2 hosts, 1 not ready") || !strings.Contains(table.String(), "FAILED") {
		t.Errorf("pull table:\n%s", table.String())
	}

	m, err := Status(t.Context(), hosts, lock)
	if err != nil {
		t.Fatal(err)
	}
	if nr := m.NotReady(); len(nr) != 1 || nr[0] != down {
		t.Errorf("status: not ready %v, want [%s]", nr, down)
	}
	for _, row := range m.Hosts {
		for _, c := range row.Cells {
			switch {
			case row.Name != down && c.State != StatePresent:
				t.Errorf("status: %s %s: %s, want present", row.Name, c.Image, c.State)
			case row.Name == down && (c.State != StateUnreachable || !strings.Contains(c.Error, want) || !errors.Is(c.Err(), ErrUnreachable)):
				t.Errorf("status: %s %s: %s %q (err %v), want unreachable saying %q", row.Name, c.Image, c.State, c.Error, c.Err(), want)
			}
		}
	}

	for _, h := range hosts {
		if h.Name != down {
			continue
		}
		if _, err := Prune(t.Context(), h, []string{"app"}, 1, lock, true); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), want) {
			t.Errorf("Prune: %v, want ErrUnreachable saying %q", err, want)
		}
	}
	if n := dockerCalls(); n != 0 {
		t.Errorf("%d calls reached %s, which Rancher says is not active; want none", n, down)
	}
	if s := l.DockerHost(down).Stats(); len(s.Requests) != 0 {
		t.Errorf("%s's Docker endpoint got requests %v; want none", down, s.Requests)
	}
}

// TestDiscoverAgentDownViaRancher: with discover: {docker: rancher}, a host
// whose agent is down when the hosts are listed used to be left out of
// the targets without a word ("1 hosts, 0 not ready", exit 0). It is a
// target reported not ready, and Rancher is never asked about it again
// (no re-read, no dockersocket action). A host Rancher purged is still no
// target.
func TestDiscoverAgentDownViaRancher(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Envs: 2, HostsPerEnv: 3, ViaRancher: []string{"qa"}, SeedRegions: true, ImageSize: 64 << 10, Layers: 1})
	const down, purged = "qa-02", "qa-03"
	if err := l.Rancher.DisconnectAgent(down, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Project("qa").SetHostState(purged, "purged", ""); err != nil {
		t.Fatal(err)
	}
	hosts, log := discoverLogged(t, l, "qa")
	for _, h := range hosts {
		if h.Name == purged {
			t.Errorf("purged host %s is a target", purged)
		}
		if (h.NotActive != nil) != (h.Name == down) {
			t.Errorf("host %s: NotActive %v", h.Name, h.NotActive)
		}
	}
	id := l.RancherHost(down).ID()
	checkNotActive(t, l, hosts, down, "qa", "agent reconnecting", func() int {
		// a re-read (its self link) or its dockersocket action (.../hosts/ID/?action=)
		return strings.Count(log.String(), "/hosts/"+id+" ") + strings.Count(log.String(), "/hosts/"+id+"/ ")
	})
	if !strings.Contains(log.String(), "query=\"action=dockersocket\"") {
		t.Errorf("no dockersocket action logged at all; the count above proves nothing:\n%s", log.String())
	}
}

// TestDiscoverInactiveEndpoint: with a discover.docker endpoint template,
// a host deactivated in Rancher used to be left out without a word. It is
// a target reported not ready (state inactive), never dialled.
func TestDiscoverInactiveEndpoint(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Envs: 2, HostsPerEnv: 2, Discover: []string{"qa"}, SeedRegions: true, ImageSize: 64 << 10, Layers: 1})
	const down = "qa-02"
	if err := l.Project("qa").SetHostState(down, "inactive", ""); err != nil {
		t.Fatal(err)
	}
	hosts, _ := discoverLogged(t, l, "qa")
	for _, h := range hosts {
		if h.Name == down && (h.NotActive == nil || !strings.HasPrefix(h.Docker, "tcp://")) {
			t.Errorf("host %s: docker %q, NotActive %v; want its endpoint, and not active", h.Name, h.Docker, h.NotActive)
		}
	}
	checkNotActive(t, l, hosts, down, "qa", "state inactive", func() int { return 0 })
}

// TestDiscoverListedViaRancherNotActive: a listed host that says
// docker: rancher and that Rancher reports deactivated is marked too, so
// it is not dialled (Cattle offers dockersocket on an inactive host).
func TestDiscoverListedViaRancherNotActive(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Envs: 2, HostsPerEnv: 2, ViaRancher: []string{"qa"}, SeedRegions: true, ImageSize: 64 << 10, Layers: 1})
	const down = "qa-02"
	if err := l.Project("qa").SetHostState(down, "inactive", ""); err != nil {
		t.Fatal(err)
	}
	inv := l.Inventory()
	e := inv.Env("qa")
	e.Discover, e.Hosts = nil, []inventory.Host{{Name: "qa-01", Docker: inventory.ViaRancher}, {Name: down, Docker: inventory.ViaRancher}}
	hosts, err := Discover(t.Context(), inv, Selection{Envs: []string{"qa"}}, func(e *inventory.Environment) (RancherHosts, string, error) {
		return rancher.Connect(inv, e.Name, l.Getenv)
	})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	checkNotActive(t, l, hosts, down, "qa", "state inactive", func() int { return 0 })
}
