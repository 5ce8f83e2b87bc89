package lab_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/inventory"
)

func TestInventoryLoadsAndMatches(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Regions: 2, Envs: 4, HostsPerEnv: 2, ImageSize: 32 << 10})
	path := filepath.Join(t.TempDir(), "hosts.yaml")
	if err := l.WriteInventory(path); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	if err := inv.Validate(inventory.RequireCredentials(l.Getenv), inventory.RequireRancher(l.Getenv)); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if inv.Registries.Source.Address != l.Source.Addr() || !inv.Registries.Source.Insecure {
		t.Errorf("source = %+v", inv.Registries.Source)
	}
	for _, name := range l.RegionNames() {
		if got := inv.Registries.Regions[name]; got.Address != l.Region(name).Addr() || !got.Insecure {
			t.Errorf("region %s = %+v", name, got)
		}
	}
	if inv.Rancher.URL != l.Rancher.URL() || !inv.Rancher.Insecure {
		t.Errorf("rancher = %q insecure %v, want %q insecure (the simulator speaks plain HTTP)", inv.Rancher.URL, inv.Rancher.Insecure, l.Rancher.URL())
	}
	var names, hosts []string
	for _, e := range inv.Environments {
		names = append(names, e.Name+"@"+e.Region)
		for _, h := range e.Hosts {
			hosts = append(hosts, h.Name+"="+h.Docker)
		}
	}
	if want := []string{"dev@eu-west", "qa@us-east", "demo@eu-west", "dmz-us-east@us-east"}; !slices.Equal(names, want) {
		t.Errorf("environments = %v, want %v", names, want)
	}
	var want []string
	for _, h := range l.Hosts() {
		want = append(want, h.Name+"="+h.Endpoint)
	}
	if !slices.Equal(hosts, want) || len(hosts) != 8 {
		t.Errorf("hosts = %v, want %v", hosts, want)
	}
	// Inventory() is the same document, loaded.
	if got := l.Inventory(); len(got.Environments) != 4 || got.Environments[3].Wave != 3 {
		t.Errorf("Inventory() = %+v", got.Environments)
	}
}

func TestSourceAuth(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{ImageSize: 32 << 10, SourceAuth: true})
	inv := l.Inventory()
	c := inv.Registries.Source.Credentials
	if c == nil || c.UsernameEnv != lab.SourceUsernameEnv || c.PasswordEnv != lab.SourcePasswordEnv {
		t.Fatalf("source credentials = %+v", c)
	}
	if err := inv.Validate(inventory.RequireCredentials(l.Getenv)); err != nil {
		t.Errorf("validate: %v", err)
	}
	get := func(user, pass string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, l.Source.URL()+"/v2/app/manifests/1.0", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("", ""); got != http.StatusUnauthorized {
		t.Errorf("anonymous = %d, want 401", got)
	}
	if got := get(l.Getenv(lab.SourceUsernameEnv), l.Getenv(lab.SourcePasswordEnv)); got != http.StatusOK {
		t.Errorf("with the lab's credentials = %d, want 200", got)
	}
	if strings.Contains(string(l.InventoryYAML()), l.Getenv(lab.SourcePasswordEnv)) {
		t.Errorf("hosts.yaml holds the password")
	}
}

func TestRancherKnowsEveryEnvironment(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Envs: 2, HostsPerEnv: 3, ImageSize: 32 << 10})
	for _, e := range l.Envs() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, l.Rancher.URL()+"/v2-beta/projects/"+l.Project(e.Name).ID()+"/hosts", nil)
		req.SetBasicAuth(l.Getenv(e.AccessKeyEnv), l.Getenv(e.SecretKeyEnv))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var coll struct {
			Data []struct {
				Hostname string            `json:"hostname"`
				Labels   map[string]string `json:"labels"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&coll)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s hosts: %d %v", e.Name, resp.StatusCode, err)
		}
		var got []string
		for _, h := range coll.Data {
			got = append(got, h.Hostname)
			if h.Labels["region"] != e.Region {
				t.Errorf("host %s labels = %v", h.Hostname, h.Labels)
			}
		}
		slices.Sort(got)
		if want := []string{e.Name + "-01", e.Name + "-02", e.Name + "-03"}; !slices.Equal(got, want) {
			t.Errorf("%s hosts = %v, want %v", e.Name, got, want)
		}
	}
}

// TestHostsPullFromTheirRegion is the lab's point: a host pulls from its
// environment's regional registry, identified in that registry's log, and
// the source registry sees none of it.
func TestHostsPullFromTheirRegion(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Regions: 2, Envs: 2, HostsPerEnv: 2, ImageSize: 64 << 10, SeedRegions: true})
	for _, h := range l.Hosts() {
		ref := l.Region(h.Region).Addr() + "/app:1.0"
		if err := l.DockerHost(h.Name).EnsureImage(t.Context(), ref, false); err != nil {
			t.Fatalf("%s: ensure %s: %v", h.Name, ref, err)
		}
	}
	if err := l.Idle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := l.Source.Stats().Total.Requests; n != 0 {
		t.Errorf("source served %d requests", n)
	}
	layers := l.Seeded[0].Layers
	for _, region := range l.RegionNames() {
		got := map[string]int{} // host -> blob GETs
		for _, e := range l.Region(region).Log() {
			if e.Class == netem.ClassBlobs && e.Method == http.MethodGet && slices.Contains(layers, e.Ref) {
				got[strings.TrimPrefix(e.UserAgent, "drover-lab-host/")]++
			}
		}
		for _, h := range l.Hosts() {
			want := 0
			if h.Region == region {
				want = len(layers)
			}
			if got[h.Name] != want {
				t.Errorf("region %s served %d layers to %s, want %d", region, got[h.Name], h.Name, want)
			}
		}
	}
}

func TestInject(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{ImageSize: 32 << 10})
	for _, s := range []string{"registry=eu-west:503@2", "registry=source:hang", "host=dev-01:down", "rancher:action=422"} {
		f, err := lab.ParseFault(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Inject(f); err != nil {
			t.Errorf("Inject(%s): %v", s, err)
		}
	}
	get := func() int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, l.Region("eu-west").URL()+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b := get(), get(); a != 200 || b != 503 {
		t.Errorf("eu-west answered %d then %d, want 200 then 503", a, b)
	}
	for _, s := range []string{"registry=mars:down", "host=nobody:down"} {
		f, _ := lab.ParseFault(s)
		if err := l.Inject(f); err == nil {
			t.Errorf("Inject(%s) accepted", s)
		}
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []lab.Config{{Regions: -1}, {ImageSize: -5}, {Images: []string{"NOT A REF"}}} {
		if l, err := lab.Start(t.Context(), cfg); err == nil {
			l.Close()
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}

func TestDiscoverEnvironments(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Envs: 2, HostsPerEnv: 2, ImageSize: 32 << 10, Discover: []string{"qa"}})
	path := filepath.Join(t.TempDir(), "hosts.yaml")
	if err := l.WriteInventory(path); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Validate(inventory.RequireCredentials(l.Getenv)); err != nil {
		t.Fatalf("validate: %v", err)
	}
	qa := inv.Environments[1]
	if qa.Name != "qa" || len(qa.Hosts) != 0 || qa.Discover == nil || qa.Discover.Docker != lab.DiscoverTemplate {
		t.Fatalf("qa = %+v", qa)
	}
	// The template, fed what Rancher reports, gives the hosts' endpoints.
	tmpl := template.Must(template.New("docker").Parse(qa.Discover.Docker))
	for _, h := range l.Envs()[1].Hosts {
		var b strings.Builder
		if err := tmpl.Execute(&b, map[string]any{"AgentIP": "127.0.0.1", "Hostname": h.Name, "Labels": h.Labels}); err != nil {
			t.Fatal(err)
		}
		if b.String() != h.Endpoint {
			t.Errorf("%s: template gives %s, want %s", h.Name, b.String(), h.Endpoint)
		}
	}
	if _, err := lab.Start(t.Context(), lab.Config{Discover: []string{"nowhere"}}); err == nil {
		t.Errorf("discover of an unknown environment accepted")
	}
}

// TestServices: with Config.Services every environment runs web/svcNN from
// its own region, the hosts hold the image before Start returns, the
// setup traffic is not counted, and the hosts.yaml carries the strategy.
func TestServices(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Regions: 2, Envs: 2, HostsPerEnv: 2, Services: 2, ImageSize: 32 << 10,
		Images: []string{"app:1.0", "app:1.1"}, HealthDelay: 20 * time.Millisecond,
		Strategy: inventory.Strategy{BatchSize: 2, IntervalMillis: 100}, Concurrency: 3})
	if got, want := l.ServiceNames(), []string{"web/svc01", "web/svc02"}; !slices.Equal(got, want) {
		t.Errorf("ServiceNames = %v, want %v", got, want)
	}
	for _, e := range l.Envs() {
		svcs := l.Services(e.Name)
		if len(svcs) != 2 {
			t.Fatalf("%s: %d services", e.Name, len(svcs))
		}
		want := l.Region(e.Region).Addr() + "/app:1.0"
		for _, s := range svcs {
			if st := s.Status(); st.State != "active" || st.Image != want || st.Scale != 2 || st.Running != 2 {
				t.Errorf("%s: service %+v, want active %s with 2 running", e.Name, st, want)
			}
		}
		for _, h := range e.Hosts {
			dh := l.DockerHost(h.Name)
			before := dh.Stats().Pulls
			if err := dh.EnsureImage(t.Context(), want, false); err != nil || dh.Stats().Pulls != before {
				t.Errorf("%s does not hold %s: %v", h.Name, want, err)
			}
		}
	}
	// Health checks make healthState meaningful: initializing, then healthy.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, s := range l.Services("dev") {
		for s.Status().HealthState != "healthy" {
			if ctx.Err() != nil {
				t.Fatalf("service never healthy: %+v", s.Status())
			}
			time.Sleep(10 * time.Millisecond) // polling the simulator's state
		}
	}
	for _, r := range l.Registries() {
		if n := r.Stats().Total.Requests; n != 0 {
			t.Errorf("a registry counts %d setup requests", n)
		}
	}
	// Regions hold what the services run, not the rest of the release.
	for tag, want := range map[string]int{"1.0": http.StatusOK, "1.1": http.StatusNotFound} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, l.Region("us-east").URL()+"/v2/app/manifests/"+tag, nil)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("us-east app:%s = %d, want %d", tag, resp.StatusCode, want)
		}
	}
	inv := l.Inventory()
	for _, e := range inv.Environments {
		if e.Strategy.BatchSize != 2 || e.Strategy.IntervalMillis != 100 || e.Concurrency != 3 {
			t.Errorf("%s: strategy %+v, concurrency %d", e.Name, e.Strategy, e.Concurrency)
		}
	}
	if _, err := lab.Start(t.Context(), lab.Config{Services: 1, ServiceImage: "app:9.9"}); err == nil {
		t.Errorf("a service image that is not seeded was accepted")
	}
}
