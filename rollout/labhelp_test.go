package rollout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
	"github.com/drover-dev/drover/rollout"
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
	writes  *writeLog
	nameFmt string
}

type fleetConfig struct {
	envs, hosts, services int
	scale                 int
	svcOpts               []ranchersim.ServiceOption
}

func newFleet(t *testing.T, fc fleetConfig) *fleet {
	t.Helper()
	if fc.scale == 0 {
		fc.scale = 2
	}
	l := labtest.New(t, lab.Config{Regions: 2, Envs: fc.envs, HostsPerEnv: fc.hosts,
		Images: []string{"app:1.0", "app:1.1", "app:1.2"}, ImageSize: 32 << 10, Layers: 2, SeedRegions: true})
	f := &fleet{l: l, inv: l.Inventory(), seeded: map[string]string{}, svcs: map[string][]*ranchersim.Service{}, writes: &writeLog{}, nameFmt: "svc%02d"}
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
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
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
func (f *fleet) prewarm(t *testing.T, envs []string, skip ...string) {
	t.Helper()
	targets, err := prewarm.Targets(f.inv, prewarm.Selection{Envs: envs})
	if err != nil {
		t.Fatal(err)
	}
	targets = slices.DeleteFunc(targets, func(x prewarm.Target) bool { return slices.Contains(skip, x.Name) })
	if _, err := prewarm.Pull(t.Context(), targets, f.lock); err != nil {
		t.Fatalf("prewarm: %v", err)
	}
}

func (f *fleet) targets(t *testing.T, envs ...string) []rollout.EnvTarget {
	t.Helper()
	ts, err := rollout.Targets(f.inv, f.rel, f.lock, envs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// engine returns an engine over the lab with quick test timings, counting
// write calls per environment.
func (f *fleet) engine(t *testing.T, opts ...rollout.Option) *rollout.Engine {
	t.Helper()
	conns := rollout.NewConnections(f.inv, f.l.Getenv)
	t.Cleanup(func() { conns.Close() })
	connect := func(ctx context.Context, env string) (rollout.Rancher, error) {
		r, err := conns.Connect(ctx, env)
		if err != nil {
			return nil, err
		}
		return &counting{Rancher: r, env: env, log: f.writes}, nil
	}
	base := []rollout.Option{rollout.WithGateTimeout(0), rollout.WithSoak(300 * time.Millisecond),
		rollout.WithHealthInterval(100 * time.Millisecond), rollout.WithUpgradeTimeout(20 * time.Second)}
	e, err := rollout.New(connect, rollout.NewHostPresence(f.inv), append(base, opts...)...)
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
