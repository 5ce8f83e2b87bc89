package fleet

import (
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

// TestDiscoverLab: one environment lists its hosts, one leaves them to
// Rancher; Discover finds the latter through the Rancher API (the lab's
// simulator) and Pull reaches every host.
func TestDiscoverLab(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Envs: 2, HostsPerEnv: 3, Discover: []string{"qa"}, SeedRegions: true, ImageSize: 64 << 10, Layers: 1})
	inv := l.Inventory()
	if _, err := Targets(inv, Selection{}); err == nil {
		t.Fatal("Targets with a discover environment: no error")
	}
	clientFor := func(env *inventory.Environment) (RancherHosts, string, error) {
		return rancher.Connect(inv, env.Name, l.Getenv)
	}
	hosts, err := Discover(t.Context(), inv, Selection{}, clientFor)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	var got, want []string
	for _, h := range hosts {
		got = append(got, h.Env+"/"+h.Name)
	}
	for _, h := range l.Hosts() {
		want = append(want, h.Env+"/"+h.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("targets %v, want %v", got, want)
	}
	rep, err := Pull(t.Context(), hosts, labLock(l))
	if err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("Pull on discovered hosts: %v", err)
	}
	if got, err := Discover(t.Context(), inv, Selection{Envs: []string{"dev"}}, nil); err != nil || len(got) != 3 {
		t.Errorf("listed environment only: %d targets, %v (want 3 and no Rancher call)", len(got), err)
	}
}

// TestSeedLabRancher: a service was upgraded from app:1.0 to app:1.1 (with
// a sidekick); a new host, not yet in Rancher, is seeded with what the
// environment runs now and the previous image, read from the Rancher API.
func TestSeedLabRancher(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{HostsPerEnv: 1, SeedRegions: true, ImageSize: 64 << 10, Layers: 1, Images: []string{"app:1.0", "app:1.1", "logger:1.0"}})
	inv := l.Inventory()
	env := &inv.Environments[0]
	region := l.Region(env.Region).Addr()
	sim, err := l.Project(env.Name).AddService("web", "front", region+"/app:1.0", 1, ranchersim.WithSidekick("log", region+"/logger:1.0"))
	if err != nil {
		t.Fatal(err)
	}
	access, secret, err := env.RancherKeys(l.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rancher.New(inv.Rancher.URL, access, secret)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Project(t.Context(), env.Name)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := c.ServiceByPath(t.Context(), p.ID, "web/front")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upgrade(t.Context(), svc, rancher.UpgradeSpec{Image: region + "/app:1.1", IntervalMillis: 100}); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitState(t.Context(), "upgraded"); err != nil {
		t.Fatal(err)
	}

	fresh, err := dockersim.Start(t.Context(), dockersim.WithName("recycled-01"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fresh.Close() })
	host := Target{Name: "recycled-01", Env: env.Name, Region: env.Region, Registry: region, Docker: fresh.Endpoint()}
	rep, err := Seed(t.Context(), host, RancherImages(c, func(string) string { return env.Name }), nil)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	var got []string
	for _, im := range rep.Hosts[0].Images {
		if im.Action != ActionPulled {
			t.Errorf("%s: %s, want pulled", im.Name, im.Action)
		}
		got = append(got, strings.TrimPrefix(im.Ref, region+"/"))
	}
	if want := []string{"app:1.1", "logger:1.0", "app:1.0"}; !slices.Equal(got, want) {
		t.Errorf("seeded %v, want %v (current, sidekick, previous)", got, want)
	}
	if s := fresh.Stats(); s.Pulls != 3 {
		t.Errorf("host started %d pulls, want 3", s.Pulls)
	}
}
