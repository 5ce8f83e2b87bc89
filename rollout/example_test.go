package rollout_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/drover-dev/drover/rollout"
)

// exampleRancher is a one-environment Rancher that completes every action
// at once: enough to show the engine's calls, not a simulator (the lab's
// ranchersim, through rollout/adapt, is the one with Cattle's states).
type exampleRancher struct {
	mu   sync.Mutex
	svcs map[string]rollout.Service
}

func (r *exampleRancher) Services(context.Context) ([]rollout.Service, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Collect(maps.Values(r.svcs)), nil
}

func (r *exampleRancher) Service(_ context.Context, id string) (rollout.Service, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.svcs[id], nil
}

func (r *exampleRancher) Hosts(context.Context) ([]rollout.Host, error) {
	return []rollout.Host{{ID: "1h1", Name: "dev-1", State: rollout.StateActive}}, nil
}

func (r *exampleRancher) Upgrade(_ context.Context, id string, u rollout.Upgrade) (rollout.Service, error) {
	return r.set(id, func(s *rollout.Service) {
		s.PreviousImage, s.Image, s.State = s.Image, u.Image, rollout.StateUpgraded
	}), nil
}

func (r *exampleRancher) FinishUpgrade(_ context.Context, id string) (rollout.Service, error) {
	return r.set(id, func(s *rollout.Service) { s.State = rollout.StateActive }), nil
}

func (r *exampleRancher) Rollback(_ context.Context, id string) (rollout.Service, error) {
	return r.set(id, func(s *rollout.Service) { s.Image, s.State = s.PreviousImage, rollout.StateActive }), nil
}

func (r *exampleRancher) Wait(ctx context.Context, id string, done func(rollout.Service) bool) (rollout.Service, error) {
	s, _ := r.Service(ctx, id)
	if !done(s) {
		return s, fmt.Errorf("service %s: %s, not what the engine waits for", id, s.State)
	}
	return s, nil
}

func (r *exampleRancher) set(id string, f func(*rollout.Service)) rollout.Service {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.svcs[id]
	f(&s)
	r.svcs[id] = s
	return s
}

// everywhere says every host holds every image (the gate opens at once).
type everywhere struct{}

func (everywhere) Present(context.Context, string, rollout.Host, rollout.Image) (bool, error) {
	return true, nil
}

// ExampleEngine_Apply rolls one service of one environment to a new image:
// gate, upgrade, verify, finish. cmd/rollout connects through
// rollout/adapt (adapt.NewConnections(inv, os.Getenv).Connect and
// adapt.NewHostPresence(inv)) instead of these fakes.
func ExampleEngine_Apply() {
	dev := &exampleRancher{svcs: map[string]rollout.Service{"1s1": {
		ID: "1s1", Stack: "web", Name: "app", State: rollout.StateActive, HealthState: rollout.HealthHealthy,
		Scale: 2, Image: "registry.example.com/app:1",
	}}}
	connect := func(context.Context, string) (rollout.Rancher, error) { return dev, nil }
	e, err := rollout.New(connect, everywhere{}, rollout.WithSoak(0))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := e.Apply(context.Background(), []rollout.EnvTarget{{
		Name: "dev", Strategy: rollout.Strategy{BatchSize: 1, IntervalMillis: 2000}, Concurrency: 2,
		Services: []rollout.ServiceTarget{{Service: "web/app", Image: rollout.Image{Ref: "registry.example.com/app:2"}}},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep)
	for _, s := range rep.Envs[0].Services {
		fmt.Println(s.Service, s.Outcome, s.From, "->", s.To)
	}
	// Output:
	// dev=done
	// web/app finished registry.example.com/app:1 -> registry.example.com/app:2
}
