package adapt_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rancher/dockersocket"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// relayFleet is a lab whose qa hosts expose no Docker endpoint (lab up
// --via-rancher qa), with one service web/app on app:1.0, a release moving
// it to app:1.1, and qa's hosts as prewarm finds them.
type relayFleet struct {
	l     *lab.Lab
	inv   *inventory.Inventory
	conns *adapt.Connections
	hosts []fleet.Target
	lock  *inventory.Lock
	rel   *inventory.Release
}

func newRelayFleet(t *testing.T) *relayFleet {
	t.Helper()
	l := labtest.New(t, lab.Config{Regions: 1, Envs: 2, HostsPerEnv: 2, ViaRancher: []string{"qa"},
		Images: []string{"app:1.0", "app:1.1"}, ImageSize: 32 << 10, Layers: 2, SeedRegions: true})
	f := &relayFleet{l: l, inv: l.Inventory(), conns: adapt.NewConnections(l.Inventory(), l.Getenv)}
	t.Cleanup(func() { f.conns.Close() })
	if e := f.inv.Env("qa"); len(e.Hosts) > 0 || !e.Discover.ViaRancher() {
		t.Fatalf("qa in hosts.yaml: hosts %v, discover %+v; want discover: {from: rancher, docker: rancher}", e.Hosts, e.Discover)
	}
	for i := range f.inv.Environments {
		f.inv.Environments[i].Strategy = inventory.Strategy{BatchSize: 1, IntervalMillis: 100}
	}
	digest := ""
	for _, s := range l.Seeded {
		if s.Ref == "app:1.1" {
			digest = s.Digest
		}
	}
	f.lock = &inventory.Lock{Version: 1, Images: []inventory.LockImage{{Name: "app", Ref: "src/app:1.1", Repository: "app", Tag: "1.1", Digest: digest}}}
	f.rel = &inventory.Release{Version: 1, Services: []inventory.ReleaseService{{Service: "web/app", Image: "app"}}}
	addr := f.inv.Registries.Regions[f.inv.Env("qa").Region].Address
	svc, err := l.Project("qa").AddService("web", "app", addr+"/app:1.0", 2, ranchersim.WithHealthCheck(50*time.Millisecond, 1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := svc.WaitState(ctx, "active"); err != nil {
		t.Fatal(err)
	}
	if f.hosts, err = fleet.Discover(t.Context(), f.inv, fleet.Selection{Envs: []string{"qa"}}, f.conns.RancherHosts); err != nil {
		t.Fatal(err)
	}
	if len(f.hosts) != 2 {
		t.Fatalf("%d qa hosts, want 2", len(f.hosts))
	}
	return f
}

// apply runs rollout apply on qa with the gate's presence check (and
// puller, with prewarm) reaching the hosts through Rancher.
func (f *relayFleet) apply(t *testing.T, presence rollout.Presence, opts ...rollout.Option) (*rollout.Report, error) {
	t.Helper()
	base := []rollout.Option{rollout.WithGateTimeout(0), rollout.WithSoak(100 * time.Millisecond),
		rollout.WithHealthInterval(50 * time.Millisecond), rollout.WithUpgradeTimeout(20 * time.Second)}
	e, err := rollout.New(f.conns.Connect, presence, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := rollout.Targets(f.inv, f.rel, f.lock, []string{"qa"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.Apply(t.Context(), targets)
}

func (f *relayFleet) presence() *adapt.HostPresence {
	return adapt.NewHostPresence(f.inv).ThroughRancher(f.conns.RancherHosts)
}

// missingHosts lists the hosts qa's gate found missing the image.
func missingHosts(rep *rollout.Report) []string {
	var out []string
	for _, er := range rep.Envs {
		if er.Gate != nil {
			for _, m := range er.Gate.Missing {
				out = append(out, m.Host)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestGateThroughRancher: rollout's gate checks hosts that expose no Docker
// endpoint through Rancher's dockersocket relay, and opens only once the
// image is on every one of them.
func TestGateThroughRancher(t *testing.T) {
	t.Parallel()
	f := newRelayFleet(t)
	names := []string{f.hosts[0].Name, f.hosts[1].Name}
	slices.Sort(names)

	rep, err := f.apply(t, f.presence())
	if err == nil || !slices.Equal(missingHosts(rep), names) {
		t.Fatalf("apply before prewarm: %v; missing on %v, want the gate closed on %v", err, missingHosts(rep), names)
	}
	// One host prewarmed (through the relay): still closed, on the other.
	if _, err := fleet.Pull(t.Context(), f.hosts[:1], f.lock); err != nil {
		t.Fatal(err)
	}
	rep, err = f.apply(t, f.presence())
	if err == nil || !slices.Equal(missingHosts(rep), []string{f.hosts[1].Name}) {
		t.Fatalf("apply with %s prewarmed: %v; missing on %v, want the gate closed on %s", f.hosts[0].Name, err, missingHosts(rep), f.hosts[1].Name)
	}
	for _, m := range rep.Envs[0].Gate.Missing {
		if m.Error != "" {
			t.Errorf("missing on %s: error %q, want none (the host answered through Rancher)", m.Host, m.Error)
		}
	}
	if _, err := fleet.Pull(t.Context(), f.hosts[1:], f.lock); err != nil {
		t.Fatal(err)
	}
	inspects := f.l.DockerHost(f.hosts[0].Name).Stats().Inspects
	rep, err = f.apply(t, f.presence())
	if err != nil || rep.Envs[0].Gate == nil || !rep.Envs[0].Gate.Open || rep.Envs[0].Gate.Checked != 2 {
		t.Fatalf("apply with every host prewarmed: %v\n%s", err, rep)
	}
	if got := f.l.DockerHost(f.hosts[0].Name).Stats().Inspects; got <= inspects {
		t.Errorf("%s: %d image inspects before the gate, %d after: the gate did not ask the host", f.hosts[0].Name, inspects, got)
	}
}

// TestPrewarmThroughRancher: rollout apply --prewarm pulls the missing
// image onto hosts reached only through Rancher, and the gate then opens.
func TestPrewarmThroughRancher(t *testing.T) {
	t.Parallel()
	f := newRelayFleet(t)
	before := map[string]int{}
	for _, h := range f.hosts {
		before[h.Name] = f.l.DockerHost(h.Name).Stats().Pulls // app:1.0, for the service's containers
	}
	p := f.presence()
	rep, err := f.apply(t, p, rollout.WithPrewarm(p))
	if err != nil || !rep.Envs[0].Gate.Open {
		t.Fatalf("apply --prewarm: %v\n%s", err, rep)
	}
	for _, h := range f.hosts {
		if n := f.l.DockerHost(h.Name).Stats().Pulls - before[h.Name]; n != 1 {
			t.Errorf("%s: %d pulls, want 1 (--prewarm through Rancher)", h.Name, n)
		}
	}
}

// agentDown is a presence check whose first call takes host's Rancher agent
// down (after the engine listed it as active), as an agent lost between the
// gate's listing and its check would be.
type agentDown struct {
	rollout.Presence
	once sync.Once
	down func()
}

func (a *agentDown) Present(ctx context.Context, env string, h rollout.Host, img rollout.Image) (bool, error) {
	a.once.Do(a.down)
	return a.Presence.Present(ctx, env, h, img)
}

// TestGateThroughRancherAgentDown: a host whose agent is down cannot be
// asked through Rancher; the gate stays closed and names it unreachable,
// whether the agent went down after the presence check found the
// environment's hosts in Rancher (the dial fails) or before (the host is
// no longer active there: the target fleet.Discover keeps for it says
// why, and it is not dialled).
func TestGateThroughRancherAgentDown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		listed bool // the presence check listed qa's hosts before the agent went down
		want   string
	}{
		{"after listing", true, "host %s (environment qa) through Rancher: dockersocket: host %s is reconnecting, agent reconnecting"},
		{"before listing", false, "host %s (qa): Rancher says agent reconnecting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRelayFleet(t)
			if _, err := fleet.Pull(t.Context(), f.hosts, f.lock); err != nil {
				t.Fatal(err)
			}
			lost := f.hosts[1].Name
			presence := f.presence()
			if tc.listed {
				img := rollout.Image{Ref: f.inv.Registries.Regions[f.inv.Env("qa").Region].Address + "/app:1.1"}
				if ok, err := presence.Present(t.Context(), "qa", rollout.Host{Name: lost, State: rollout.StateActive}, img); !ok || err != nil {
					t.Fatalf("Present on %s before the fault: %v %v", lost, ok, err)
				}
			}
			p := &agentDown{Presence: presence, down: func() {
				if err := f.l.Rancher.DisconnectAgent(lost, true); err != nil {
					t.Error(err)
				}
			}}
			rep, err := f.apply(t, p)
			if err == nil {
				t.Fatalf("apply with %s's agent down: no error\n%s", lost, rep)
			}
			miss := rep.Envs[0].Gate.Missing
			want := strings.ReplaceAll(tc.want, "%s", lost)
			if len(miss) != 1 || miss[0].Host != lost || !strings.Contains(miss[0].Error, "host "+lost+" unreachable") || !strings.Contains(miss[0].Error, want) {
				t.Fatalf("gate missing %+v, want %s alone, unreachable (%s)", miss, lost, want)
			}
		})
	}
}

// TestGateThroughRancherHostNotListed: in an environment that lists its
// hosts (docker: rancher), a Rancher host the service runs on but the
// inventory does not list is named as not in the inventory, as for hosts
// reached by endpoint, not as a host Rancher reports inactive (it is
// active).
func TestGateThroughRancherHostNotListed(t *testing.T) {
	t.Parallel()
	f := newRelayFleet(t)
	e := f.inv.Env("qa")
	listed, other := f.hosts[0].Name, f.hosts[1].Name
	e.Discover, e.Hosts = nil, []inventory.Host{{Name: listed, Docker: inventory.ViaRancher}}
	if _, err := fleet.Pull(t.Context(), f.hosts, f.lock); err != nil {
		t.Fatal(err)
	}
	img := rollout.Image{Ref: f.inv.Registries.Regions[e.Region].Address + "/app:1.1"}
	p := f.presence()
	if ok, err := p.Present(t.Context(), "qa", rollout.Host{Name: listed, State: rollout.StateActive}, img); !ok || err != nil {
		t.Fatalf("Present on listed %s: %v %v, want true", listed, ok, err)
	}
	_, err := p.Present(t.Context(), "qa", rollout.Host{Name: other, State: rollout.StateActive}, img)
	want := "host " + other + " (in Rancher) is not in the inventory for qa"
	if err == nil || err.Error() != want || !errors.Is(err, rollout.ErrNotInInventory) {
		t.Errorf("Present on unlisted %s: %v, want %q (rollout.ErrNotInInventory)", other, err, want)
	}
	// The same environment reached by endpoint: the same error.
	e.Hosts = []inventory.Host{{Name: listed, Docker: "tcp://127.0.0.1:1"}}
	_, err = adapt.NewHostPresence(f.inv).Present(t.Context(), "qa", rollout.Host{Name: other, State: rollout.StateActive}, img)
	if err == nil || err.Error() != want || !errors.Is(err, rollout.ErrNotInInventory) {
		t.Errorf("Present on unlisted %s, hosts by endpoint: %v, want %q (rollout.ErrNotInInventory)", other, err, want)
	}
}

// countPresence counts Present calls; past limit it fails the test and
// cancels the run, so a gate that keeps re-checking fails fast.
type countPresence struct {
	rollout.Presence
	t      *testing.T
	limit  int
	cancel context.CancelFunc
	mu     sync.Mutex
	n      int
}

func (c *countPresence) Present(ctx context.Context, env string, h rollout.Host, img rollout.Image) (bool, error) {
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	if n > c.limit {
		c.t.Errorf("presence check %d on %s: the gate re-checks a host Rancher refused (want at most %d checks)", n, h.Name, c.limit)
		c.cancel()
	}
	return c.Presence.Present(ctx, env, h, img)
}

// TestGateThroughRancherRefused: when Rancher refuses the key the
// dockersocket action (403, or a role without modifyInfra, which sees no
// action and gets 422 InvalidAction), the gate closes at once, naming the
// refusal, the key's variables and modifyInfra once, instead of
// re-checking until --gate-timeout; --prewarm pulls nothing. So does a
// relay that refuses the token, or a ws:// relay URL from an https server
// (both used to re-check until --gate-timeout), naming what to change.
func TestGateThroughRancherRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		prewarm bool
		setup   func(t *testing.T, f *relayFleet) clientFor
		want    []string // in the gate's cause and, once, in each host's error
	}{
		{"403", false, func(t *testing.T, f *relayFleet) clientFor {
			f.l.Rancher.RefuseDockerSocket(403)
			return f.conns.RancherHosts
		}, keyAdvice},
		{"403 prewarm", true, func(t *testing.T, f *relayFleet) clientFor {
			f.l.Rancher.RefuseDockerSocket(403)
			return f.conns.RancherHosts
		}, keyAdvice},
		{"token refused", false, func(t *testing.T, f *relayFleet) clientFor {
			return dialersOf(f.conns.RancherHosts, func(d *dockersocket.Dialer) {
				access := d.Access
				d.Access = func(ctx context.Context) (string, string, error) {
					u, _, err := access(ctx)
					return u, "not-the-token", err
				}
			})
		}, []string{"qa", "refused the dockersocket token", "proxy in front of Rancher"}},
		{"token refused prewarm", true, func(t *testing.T, f *relayFleet) clientFor {
			return dialersOf(f.conns.RancherHosts, func(d *dockersocket.Dialer) {
				access := d.Access
				d.Access = func(ctx context.Context) (string, string, error) {
					u, _, err := access(ctx)
					return u, "not-the-token", err
				}
			})
		}, []string{"qa", "refused the dockersocket token", "proxy in front of Rancher"}},
		// The lab's Rancher is http://, its relay ws://: a dialer that
		// requires wss:// (as for an https Rancher URL) refuses it.
		{"ws URL", false, func(t *testing.T, f *relayFleet) clientFor {
			return dialersOf(f.conns.RancherHosts, func(d *dockersocket.Dialer) { d.RequireTLS = true })
		}, []string{"qa", "unencrypted ws://", "api.host"}},
		{"restricted key 422", false, func(t *testing.T, f *relayFleet) clientFor {
			restricted := ranchersim.Keys{Access: "RESTRICTEDKEY", Secret: "restricted-secret"}
			if err := f.l.Project("qa").AddKeys(restricted, "restricted"); err != nil {
				t.Fatal(err)
			}
			getenv := func(name string) string {
				switch name {
				case "LAB_QA_ACCESS_KEY":
					return restricted.Access
				case "LAB_QA_SECRET_KEY":
					return restricted.Secret
				}
				return f.l.Getenv(name)
			}
			cs := adapt.NewConnections(f.inv, getenv)
			t.Cleanup(func() { cs.Close() })
			return cs.RancherHosts
		}, keyAdvice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRelayFleet(t)
			clients := tc.setup(t, f)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			hp := adapt.NewHostPresence(f.inv).ThroughRancher(clients)
			p := &countPresence{Presence: hp, t: t, limit: len(f.hosts), cancel: cancel}
			opts := []rollout.Option{rollout.WithGateTimeout(time.Hour), rollout.WithGateInterval(time.Millisecond)}
			if tc.prewarm {
				opts = append(opts, rollout.WithPrewarm(hp))
			}
			pulls := map[string]int{}
			for _, h := range f.hosts {
				pulls[h.Name] = f.l.DockerHost(h.Name).Stats().Pulls
			}
			e, err := rollout.New(f.conns.Connect, p, append([]rollout.Option{rollout.WithSoak(100 * time.Millisecond),
				rollout.WithHealthInterval(50 * time.Millisecond), rollout.WithUpgradeTimeout(20 * time.Second)}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			targets, err := rollout.Targets(f.inv, f.rel, f.lock, []string{"qa"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := e.Apply(ctx, targets)
			if err == nil || rep.Envs[0].Status != rollout.EnvGated {
				t.Fatalf("apply with the relay refused: %v\n%s", err, rep)
			}
			cause := rep.Envs[0].Cause
			for _, want := range append([]string{"not waiting"}, tc.want...) {
				if !strings.Contains(cause, want) {
					t.Errorf("gate cause does not say %q: %s", want, cause)
				}
			}
			for _, m := range rep.Envs[0].Gate.Missing {
				if !m.Refused || strings.Contains(m.Error, "via-rancher") || !strings.Contains(m.Error, "host "+m.Host+" ") {
					t.Errorf("missing %+v: want Refused, the host named, no made-up Docker URL", m)
				}
				for _, want := range tc.want[1:] {
					if strings.Count(m.Error, want) != 1 {
						t.Errorf("missing %+v: want %q named once", m, want)
					}
				}
			}
			for _, h := range f.hosts {
				if n := f.l.DockerHost(h.Name).Stats().Pulls - pulls[h.Name]; n != 0 {
					t.Errorf("%s: %d pulls with the action refused", h.Name, n)
				}
			}
		})
	}
}

// clientFor is Connections.RancherHosts' type.
type clientFor = func(*inventory.Environment) (fleet.RancherHosts, string, error)

// keyAdvice is what a refused dockersocket action's errors name.
var keyAdvice = []string{"$LAB_QA_ACCESS_KEY", "modifyInfra"}

// dialersOf is clients with mod applied to each host's dockersocket dialer.
func dialersOf(clients clientFor, mod func(*dockersocket.Dialer)) clientFor {
	return func(e *inventory.Environment) (fleet.RancherHosts, string, error) {
		c, s, err := clients(e)
		if err != nil {
			return c, s, err
		}
		return modDialer{RancherHosts: c, mod: mod}, s, nil
	}
}

type modDialer struct {
	fleet.RancherHosts
	mod func(*dockersocket.Dialer)
}

func (m modDialer) DockerDialer(h *rancher.Host) *dockersocket.Dialer {
	d := m.RancherHosts.(fleet.RancherDockerDialer).DockerDialer(h)
	m.mod(d)
	return d
}

// TestGateThroughRancherAgentBack: a host whose agent is away when the
// presence check first lists the environment's hosts is listed again at
// the next check, so the gate opens once the agent is back (a host Rancher
// reported not active was served from the list for the rest of the run).
func TestGateThroughRancherAgentBack(t *testing.T) {
	t.Parallel()
	f := newRelayFleet(t)
	if _, err := fleet.Pull(t.Context(), f.hosts, f.lock); err != nil {
		t.Fatal(err)
	}
	lost := f.hosts[1].Name
	img := rollout.Image{Ref: f.inv.Registries.Regions[f.inv.Env("qa").Region].Address + "/app:1.1"}
	p := f.presence()
	if err := f.l.Rancher.DisconnectAgent(lost, true); err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Present(t.Context(), "qa", rollout.Host{Name: lost, State: rollout.StateActive}, img); ok || err == nil {
		t.Fatalf("Present on %s with its agent away: %v %v, want an error", lost, ok, err)
	}
	if err := f.l.Rancher.DisconnectAgent(lost, false); err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Present(t.Context(), "qa", rollout.Host{Name: lost, State: rollout.StateActive}, img); !ok || err != nil {
		t.Fatalf("Present on %s once its agent is back: %v %v, want true", lost, ok, err)
	}
}
