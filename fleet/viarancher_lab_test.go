package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rancher/dockersocket"
)

// viaRancherLab is a lab whose qa hosts are reached only through Rancher,
// and their targets (found with Discover).
func viaRancherLab(t *testing.T, cfg lab.Config) (*lab.Lab, *inventory.Inventory, []Target) {
	t.Helper()
	l := labtest.New(t, cfg)
	inv := l.Inventory()
	hosts, err := Discover(t.Context(), inv, Selection{Envs: []string{"qa"}}, func(env *inventory.Environment) (RancherHosts, string, error) {
		return rancher.Connect(inv, env.Name, l.Getenv)
	})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	for _, h := range hosts {
		if h.Docker != inventory.ViaRancher || h.Rancher == nil {
			t.Fatalf("host %s: docker %q, want %q and a Rancher dialer", h.Name, h.Docker, inventory.ViaRancher)
		}
	}
	return l, inv, hosts
}

// countDials counts, by host, the connections hosts open through Rancher.
func countDials(hosts []Target) map[string]*atomic.Int32 {
	out := map[string]*atomic.Int32{}
	for i := range hosts {
		n, via := &atomic.Int32{}, *hosts[i].Rancher
		dial := via.Dial
		via.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			n.Add(1)
			return dial(ctx, network, addr)
		}
		hosts[i].Rancher, out[hosts[i].Name] = &via, n
	}
	return out
}

// noToken fails when v, as JSON, carries anything like a dockersocket token.
func noToken(t *testing.T, what string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if s := string(b); strings.Contains(s, "token=") || strings.Contains(s, "dockersocket/?") {
		t.Errorf("%s carries a dockersocket URL or token: %s", what, s)
	}
}

// TestViaRancherLabVerbs: a fleet whose hosts.yaml lists no Docker endpoint
// for qa is seeded, pulled, checked, pulled again and pruned, every Docker API call
// through the Rancher simulator's dockersocket relay.
func TestViaRancherLabVerbs(t *testing.T) {
	t.Parallel()
	l, inv, hosts := viaRancherLab(t, lab.Config{Envs: 2, HostsPerEnv: 2, ViaRancher: []string{"qa"}, SeedRegions: true, ImageSize: 64 << 10, Layers: 2})
	if _, err := Targets(inv, Selection{Envs: []string{"qa"}}); err == nil || !strings.Contains(err.Error(), "use Discover") {
		t.Fatalf("Targets on a via-rancher environment: %v, want an error saying to use Discover", err)
	}
	if len(hosts) != 2 {
		t.Fatalf("%d qa hosts, want 2", len(hosts))
	}
	lock := labLock(l)

	// seed --host: one host, before the others.
	rep, err := Seed(t.Context(), hosts[1], nil, lock)
	if err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("Seed through Rancher: %v %v", err, rep.Failed())
	}
	if s := l.DockerHost(hosts[1].Name).Stats(); s.Pulls != len(lock.Images) {
		t.Errorf("seeded host started %d pulls, want %d", s.Pulls, len(lock.Images))
	}
	noToken(t, "seed report", rep)

	// pull: the other host pulls, the seeded one finds everything present.
	rep, err = Pull(t.Context(), hosts, lock, WithBackoff(noBackoff))
	if err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("Pull through Rancher: %v %v", err, rep.Failed())
	}
	if s := l.DockerHost(hosts[0].Name).Stats(); s.Pulls != len(lock.Images) {
		t.Errorf("pulled host started %d pulls, want %d", s.Pulls, len(lock.Images))
	}
	noToken(t, "pull report", rep)

	// status: every cell present.
	m, err := Status(t.Context(), hosts, lock)
	if err != nil {
		t.Fatalf("Status through Rancher: %v", err)
	}
	for _, row := range m.Hosts {
		for _, c := range row.Cells {
			if c.State != StatePresent {
				t.Errorf("%s %s: %s (%s), want present", row.Name, c.Image, c.State, c.Error)
			}
		}
	}

	// a second pull pulls nothing.
	rep, err = Pull(t.Context(), hosts, lock)
	if err != nil {
		t.Fatalf("second Pull through Rancher: %v", err)
	}
	for _, h := range hosts {
		if s := l.DockerHost(h.Name).Stats(); s.Pulls != len(lock.Images) {
			t.Errorf("host %s started %d pulls after a second pass, want %d (none more)", h.Name, s.Pulls, len(lock.Images))
		}
	}
	noToken(t, "second pull report", rep)

	// prune: keep none of repository app but what the lock pins.
	pr, err := Prune(t.Context(), hosts[0], []string{"app"}, 0, lock, false)
	if err != nil {
		t.Fatalf("Prune through Rancher: %v", err)
	}
	if len(pr.Kept) == 0 {
		t.Errorf("prune kept nothing; want the lock's images kept: %+v", pr)
	}
}

// TestViaRancherLabFaults: each fault of the relay is named with the host
// and the environment, and counted as the issue says.
func TestViaRancherLabFaults(t *testing.T) {
	t.Parallel()
	cfg := lab.Config{Envs: 2, HostsPerEnv: 2, ViaRancher: []string{"qa"}, SeedRegions: true, ImageSize: 256 << 10, Layers: 4}

	t.Run("agent down", func(t *testing.T) {
		t.Parallel()
		l, _, hosts := viaRancherLab(t, cfg)
		if err := l.Rancher.DisconnectAgent(hosts[0].Name, true); err != nil {
			t.Fatal(err)
		}
		m, err := Status(t.Context(), hosts, labLock(l))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range m.Hosts {
			for _, c := range row.Cells {
				switch {
				case row.Name == hosts[0].Name && c.State != StateUnreachable:
					t.Errorf("%s %s: %s, want unreachable (agent down)", row.Name, c.Image, c.State)
				case row.Name == hosts[0].Name && !strings.Contains(c.Error, "host "+hosts[0].Name+" (environment qa) through Rancher") ||
					row.Name == hosts[0].Name && !strings.Contains(c.Error, "agent reconnecting"):
					t.Errorf("%s: error %q does not name the host, its environment and the agent", row.Name, c.Error)
				case row.Name != hosts[0].Name && c.State != StateMissing:
					t.Errorf("%s %s: %s, want missing", row.Name, c.Image, c.State)
				}
			}
		}
	})

	// A refused action is one connection per host and run (no retry),
	// named once: the host and its environment, Rancher's answer, the
	// capability and the key's variables; not the moby client's made-up
	// address.
	t.Run("action refused 403", func(t *testing.T) {
		t.Parallel()
		l, _, hosts := viaRancherLab(t, cfg)
		l.Rancher.RefuseDockerSocket(403)
		dials := countDials(hosts)
		lock := labLock(l)
		_, err := Pull(t.Context(), hosts, lock, WithBackoff(noBackoff))
		if err == nil || !errors.Is(err, dockersocket.ErrActionMissing) {
			t.Fatalf("Pull with the action refused: %v, want ErrActionMissing", err)
		}
		var he *HostError
		if !errors.As(err, &he) {
			t.Fatalf("Pull with the action refused: %v, want a *HostError", err)
		}
		msg := he.Err.Error()
		for _, want := range []string{"host " + he.Host + " (environment qa) through Rancher", "403 Forbidden", "$LAB_QA_ACCESS_KEY", "modifyInfra"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		if strings.Count(msg, "modifyInfra") != 1 || strings.Contains(msg, "via-rancher") {
			t.Errorf("error %q: want modifyInfra named once and no made-up Docker URL", msg)
		}
		m, err := Status(t.Context(), hosts, lock)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range m.Hosts {
			for _, c := range row.Cells {
				if c.State != StateUnreachable || !errors.Is(c.Err(), dockersocket.ErrActionMissing) {
					t.Errorf("status %s %s: %s %v, want unreachable, ErrActionMissing", row.Name, c.Image, c.State, c.Err())
				}
			}
		}
		for _, h := range hosts {
			if s := l.DockerHost(h.Name).Stats(); s.Pulls != 0 {
				t.Errorf("%s: %d pulls with the action refused", h.Name, s.Pulls)
			}
			if n := dials[h.Name].Load(); n != 2 {
				t.Errorf("%s: %d connections through Rancher for a pull and a status, want 2 (one each, no retry)", h.Name, n)
			}
		}
	})

	t.Run("restricted key 422", func(t *testing.T) {
		t.Parallel()
		l := labtest.New(t, cfg)
		inv := l.Inventory()
		restricted := ranchersim.Keys{Access: "RESTRICTEDKEY", Secret: "restricted-secret"}
		if err := l.Project("qa").AddKeys(restricted, "restricted"); err != nil {
			t.Fatal(err)
		}
		hosts, err := Discover(t.Context(), inv, Selection{Envs: []string{"qa"}}, func(env *inventory.Environment) (RancherHosts, string, error) {
			c, err := rancher.New(inv.Rancher.URL, restricted.Access, restricted.Secret)
			return c, env.Name, err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Pull(t.Context(), hosts[:1], labLock(l), WithBackoff(noBackoff))
		if !errors.Is(err, dockersocket.ErrActionMissing) || !strings.Contains(err.Error(), "modifyInfra") || !strings.Contains(err.Error(), "$LAB_QA_ACCESS_KEY") {
			t.Fatalf("Pull with a restricted key: %v, want ErrActionMissing naming the key and modifyInfra", err)
		}
	})

	// With no retry left, a dropped relay is named by the host and its
	// environment, not the moby client's made-up address.
	t.Run("relay drop named", func(t *testing.T) {
		t.Parallel()
		l, _, hosts := viaRancherLab(t, cfg)
		lock := labLock(l)
		lock.Images = lock.Images[:1]
		l.Rancher.DropRelayAfter(3500) // mid-pull, as below
		_, err := Pull(t.Context(), hosts[:1], lock, WithRetries(0))
		if !errors.Is(err, dockersocket.ErrRelayClosed) {
			t.Fatalf("Pull with the relay dropped and no retry: %v, want ErrRelayClosed", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "host "+hosts[0].Name+" (environment qa) through Rancher") || strings.Contains(msg, "via-rancher") {
			t.Errorf("error %q: want the host and its environment named, not the moby client's made-up URL", msg)
		}
	})

	t.Run("relay drop mid-pull", func(t *testing.T) {
		t.Parallel()
		l, _, hosts := viaRancherLab(t, cfg)
		lock := labLock(l)
		lock.Images = lock.Images[:1]
		l.Rancher.DropRelayAfter(3500) // past /_ping, /info (~1.6 KB) and the inspect: mid-pull
		rep, err := Pull(t.Context(), hosts[:1], lock, WithBackoff(noBackoff))
		if err != nil || len(rep.Failed()) > 0 {
			t.Fatalf("Pull with the relay dropped once: %v", err)
		}
		if ir := rep.Hosts[0].Images[0]; ir.Attempts != 2 || ir.Action != ActionPulled {
			t.Errorf("image %s: %d attempts, %s; want pulled on the second attempt", ir.Name, ir.Attempts, ir.Action)
		}
	})
}
