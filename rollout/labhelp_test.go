package rollout_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hostfleet "github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// fleet is a lab with services web/svcNN in every environment running
// <region>/app:1.0, and a release moving them all to the lock's "app"
// (app:1.1) or "bad" (app:1.2).
type fleet struct {
	l       *lab.Lab
	inv     *inventory.Inventory
	lock    *inventory.Lock
	rel     *inventory.Release
	seeded  map[string]string // "app:1.1" -> digest
	svcs    map[string][]*ranchersim.Service
	writes  *writeLog // write calls through the engine's Rancher, and "done" events
	http    *httpLog  // every HTTP request the engine's Rancher clients made
	nameFmt string
	// onEvent, when set before engine is called, sees every progress event
	// (serialized by the engine): tests inject faults from it.
	onEvent func(rollout.Event)
}

type fleetConfig struct {
	envs, hosts, services int
	scale                 int
	svcOpts               []ranchersim.ServiceOption
	// lab, when set, adjusts the lab's config (image size, links).
	lab func(*lab.Config)
}

func newFleet(t testing.TB, fc fleetConfig) *fleet {
	t.Helper()
	if fc.scale == 0 {
		fc.scale = 2
	}
	cfg := lab.Config{Regions: 2, Envs: fc.envs, HostsPerEnv: fc.hosts,
		Images: []string{"app:1.0", "app:1.1", "app:1.2"}, ImageSize: 32 << 10, Layers: 2, SeedRegions: true}
	if fc.lab != nil {
		fc.lab(&cfg)
	}
	l := labtest.New(t, cfg)
	f := &fleet{l: l, inv: l.Inventory(), seeded: map[string]string{}, svcs: map[string][]*ranchersim.Service{}, writes: &writeLog{}, http: &httpLog{}, nameFmt: "svc%02d"}
	if fc.services > 99 {
		f.nameFmt = "svc%03d"
	}
	for _, s := range l.Seeded {
		f.seeded[s.Ref] = s.Digest
	}
	for i := range f.inv.Environments {
		f.inv.Environments[i].Strategy = inventory.Strategy{BatchSize: 1, IntervalMillis: 100}
		f.inv.Environments[i].Concurrency = 4
	}
	f.lock = &inventory.Lock{Version: 1, Images: []inventory.LockImage{
		{Name: "app", Ref: "src/app:1.1", Repository: "app", Tag: "1.1", Digest: f.seeded["app:1.1"]},
		{Name: "bad", Ref: "src/app:1.2", Repository: "app", Tag: "1.2", Digest: f.seeded["app:1.2"]},
	}}
	f.rel = &inventory.Release{Version: 1}
	for i := range fc.services {
		f.rel.Services = append(f.rel.Services, inventory.ReleaseService{Service: "web/" + f.name(i), Image: "app"})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	for _, e := range f.inv.Environments {
		addr := f.inv.Registries.Regions[e.Region].Address
		p := l.Project(e.Name)
		for i := range fc.services {
			opts := append([]ranchersim.ServiceOption{ranchersim.WithHealthCheck(50*time.Millisecond, 1)}, fc.svcOpts...)
			svc, err := p.AddService("web", f.name(i), addr+"/app:1.0", fc.scale, opts...)
			if err != nil {
				t.Fatal(err)
			}
			f.svcs[e.Name] = append(f.svcs[e.Name], svc)
		}
	}
	for env, ss := range f.svcs {
		for _, s := range ss {
			if err := s.WaitState(ctx, "active"); err != nil {
				t.Fatalf("%s: %v", env, err)
			}
		}
	}
	return f
}

func (f *fleet) name(i int) string { return fmt.Sprintf(f.nameFmt, i) }

// prewarm pulls the lock's images onto the hosts of envs (all when none),
// except the hosts named in skip.
func (f *fleet) prewarm(t testing.TB, envs []string, skip ...string) {
	t.Helper()
	targets, err := hostfleet.Targets(f.inv, hostfleet.Selection{Envs: envs})
	if err != nil {
		t.Fatal(err)
	}
	targets = slices.DeleteFunc(targets, func(x hostfleet.Target) bool { return slices.Contains(skip, x.Name) })
	if _, err := hostfleet.Pull(t.Context(), targets, f.lock); err != nil {
		t.Fatalf("prewarm: %v", err)
	}
}

func (f *fleet) targets(t testing.TB, envs ...string) []rollout.EnvTarget {
	t.Helper()
	ts, err := rollout.Targets(f.inv, f.rel, f.lock, envs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// engine returns an engine over the lab with quick test timings, counting
// write calls per environment (and logging each service's "done" event in
// the same ordered log), and every HTTP request in f.http.
func (f *fleet) engine(t *testing.T, opts ...rollout.Option) *rollout.Engine {
	t.Helper()
	return f.engineWith(t, adapt.NewHostPresence(f.inv), opts...)
}

// engineWith is engine with another presence check.
func (f *fleet) engineWith(t testing.TB, presence rollout.Presence, opts ...rollout.Option) *rollout.Engine {
	t.Helper()
	hc := &http.Client{Transport: &countingTransport{rt: http.DefaultTransport.(*http.Transport).Clone(), log: f.http}}
	conns := adapt.NewConnections(f.inv, f.l.Getenv, rancher.WithHTTPClient(hc))
	t.Cleanup(func() { conns.Close() })
	connect := func(ctx context.Context, env string) (rollout.Rancher, error) {
		r, err := conns.Connect(ctx, env)
		if err != nil {
			return nil, err
		}
		return &counting{Rancher: r, env: env, log: f.writes}, nil
	}
	base := []rollout.Option{rollout.WithGateTimeout(0), rollout.WithSoak(300 * time.Millisecond),
		rollout.WithHealthInterval(100 * time.Millisecond), rollout.WithUpgradeTimeout(20 * time.Second),
		rollout.WithProgress(func(ev rollout.Event) {
			f.writes.progress(ev)
			if f.onEvent != nil {
				f.onEvent(ev)
			}
		})}
	e, err := rollout.New(connect, presence, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fleet) region(env string) string {
	return f.inv.Registries.Regions[f.inv.Env(env).Region].Address
}

// rawService GETs a service from the simulator as raw JSON.
func (f *fleet) rawService(t *testing.T, env, id string) map[string]json.RawMessage {
	t.Helper()
	e := f.inv.Env(env)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		f.inv.Rancher.URL+"/v2-beta/projects/"+f.l.Project(env).ID()+"/services/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(f.l.Getenv(e.Credentials.AccessKeyEnv), f.l.Getenv(e.Credentials.SecretKeyEnv))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// writeLog records write calls made through counting.
type writeLog struct {
	mu  sync.Mutex
	all []string // "env op service-id"
}

func (w *writeLog) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all = append(w.all, s)
}

// progress is a rollout progress callback logging "env done service" for
// every finished service, in order with the write calls.
func (w *writeLog) progress(ev rollout.Event) {
	if ev.Step == "done" {
		w.add(ev.Env + " done " + ev.Service)
	}
}

// entries is a copy of the log, in call order.
func (w *writeLog) entries() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.all)
}

// writes lists the write calls (upgrade, finish, rollback) starting with
// prefix, in order.
func (w *writeLog) writes(prefix string) []string {
	var out []string
	for _, s := range w.entries() {
		if strings.HasPrefix(s, prefix) && !strings.Contains(s, " done ") {
			out = append(out, s)
		}
	}
	return out
}

func (w *writeLog) count(prefix string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, s := range w.all {
		if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

type counting struct {
	rollout.Rancher
	env string
	log *writeLog
}

func (c *counting) Upgrade(ctx context.Context, id string, u rollout.Upgrade) (rollout.Service, error) {
	c.log.add(c.env + " upgrade " + id)
	return c.Rancher.Upgrade(ctx, id, u)
}

func (c *counting) FinishUpgrade(ctx context.Context, id string) (rollout.Service, error) {
	c.log.add(c.env + " finish " + id)
	return c.Rancher.FinishUpgrade(ctx, id)
}

func (c *counting) Rollback(ctx context.Context, id string) (rollout.Service, error) {
	c.log.add(c.env + " rollback " + id)
	return c.Rancher.Rollback(ctx, id)
}

// httpLog records the HTTP requests a Rancher client made, as
// "METHOD path[?action=x] status" (status 0 on a transport error).
type httpLog struct {
	mu  sync.Mutex
	all []string
}

type countingTransport struct {
	rt  http.RoundTripper
	log *httpLog
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	line := req.Method + " " + req.URL.Path
	if a := req.URL.Query().Get("action"); a != "" {
		line += "?action=" + a
	}
	if req.URL.Query().Has("marker") {
		line += " (marker)"
	}
	resp, err := c.rt.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	c.log.mu.Lock()
	c.log.all = append(c.log.all, fmt.Sprintf("%s %d", line, status))
	c.log.mu.Unlock()
	return resp, err
}

// reset forgets the requests seen so far.
func (h *httpLog) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = nil
}

// lines lists the requests containing every one of subs.
func (h *httpLog) lines(subs ...string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.all {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// idSegment is a path segment that is a Rancher id (1s12, 1a5, 1i40).
var idSegment = regexp.MustCompile(`^[0-9]+[a-z]+[0-9]+$`)

// byPath counts the requests by method and path with ids replaced by
// "{id}", most frequent first, one "count line" a line.
func (h *httpLog) byPath() string {
	h.mu.Lock()
	n := map[string]int{}
	for _, l := range h.all {
		parts := strings.Split(l, " ")
		segs := strings.Split(parts[1], "/")
		for i, s := range segs {
			if idSegment.MatchString(s) {
				segs[i] = "{id}"
			}
		}
		parts[1] = strings.Join(segs, "/")
		n[strings.Join(parts, " ")]++
	}
	h.mu.Unlock()
	keys := slices.Collect(maps.Keys(n))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(n[b]-n[a], strings.Compare(a, b)) })
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%5d %s\n", n[k], k)
	}
	return sb.String()
}
