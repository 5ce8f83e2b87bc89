package rollout

import (
	"context"
	"errors"
	"fmt"
	"github.com/drover-dev/drover/internal/ctxsleep"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// world is a set of fake environments sharing one action log, driven by
// fake time inside a synctest bubble.
type world struct {
	mu   sync.Mutex
	envs map[string]*fakeEnv
	log  []action // every write, in order
	pres map[string]bool
	// presenceErr makes Present fail for a host name.
	presenceErr map[string]error
	// hang makes Present on a host name block until its context ends (a
	// hung dockerd).
	hang      map[string]bool
	pulls     []string
	pullDelay time.Duration
}

type action struct {
	at      time.Time
	env, op string
	svc     string
}

func newWorld() *world {
	return &world{envs: map[string]*fakeEnv{}, pres: map[string]bool{}, presenceErr: map[string]error{}, hang: map[string]bool{}, pullDelay: time.Second}
}

func (w *world) connect(_ context.Context, env string) (Rancher, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.envs[env]
	if !ok {
		return nil, fmt.Errorf("no env %s", env)
	}
	return e, nil
}

// env adds an environment with hosts h1..hN (active, present for nothing).
func (w *world) env(name string, hosts int) *fakeEnv {
	e := &fakeEnv{w: w, name: name, svcs: map[string]*Service{}, bad: map[string]bool{}, stuck: map[string]bool{}}
	for i := 1; i <= hosts; i++ {
		e.hosts = append(e.hosts, Host{ID: fmt.Sprintf("1h%d", i), Name: fmt.Sprintf("%s-h%d", name, i), State: StateActive})
	}
	w.mu.Lock()
	w.envs[name] = e
	w.mu.Unlock()
	return e
}

// have marks ref present on every host of env.
func (w *world) have(env, ref string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.envs[env].hosts {
		w.pres[env+"/"+h.Name+"/"+ref] = true
	}
}

func (w *world) setPresent(env, host, ref string, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pres[env+"/"+host+"/"+ref] = ok
}

func (w *world) Present(ctx context.Context, env string, h Host, img Image) (bool, error) {
	w.mu.Lock()
	if w.hang[h.Name] {
		w.mu.Unlock()
		<-ctx.Done()
		return false, fmt.Errorf("inspect %s on %s: %w", img.Ref, h.Name, ctx.Err())
	}
	defer w.mu.Unlock()
	if err := w.presenceErr[h.Name]; err != nil {
		return false, err
	}
	return w.pres[env+"/"+h.Name+"/"+img.Ref], nil
}

func (w *world) Pull(ctx context.Context, env string, h Host, img Image) error {
	if err := ctxsleep.Sleep(ctx, w.pullDelay); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pulls = append(w.pulls, h.Name+" "+img.Ref)
	w.pres[env+"/"+h.Name+"/"+img.Ref] = true
	return nil
}

// writes lists "op svc" of env's write calls.
func (w *world) writes(env string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, a := range w.log {
		if a.env == env {
			out = append(out, a.op+" "+a.svc)
		}
	}
	return out
}

type fakeEnv struct {
	w     *world
	name  string
	hosts []Host
	svcs  map[string]*Service // by id
	n     int
	gen   map[string]int

	bad   map[string]bool // image -> unhealthy after upgrade
	stuck map[string]bool // image -> upgrade never leaves upgrading
	// knobs, each consumed once per use
	failWaits      int   // Wait calls that fail (a dropped websocket)
	failUpgrade    int   // Upgrade calls answering 503 without effect
	failAfterApply int   // Upgrade calls answering 503 after taking effect
	rollbackErr    error // every Rollback call fails with it
	rejectUpgrade  bool  // Upgrade answers 422 ActionNotAvailable
	failReads      int   // Service calls answering 503
	reads          int
}

func (e *fakeEnv) add(stack, name, image string, scale int) *Service {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	e.n++
	s := &Service{ID: fmt.Sprintf("1s%d", e.n), Stack: stack, Name: name, State: StateActive, HealthState: HealthHealthy,
		Transitioning: "no", Scale: scale, Image: image, NewUnits: -1}
	e.svcs[s.ID] = s
	return s
}

func (e *fakeEnv) get(key string) Service {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	for _, s := range e.svcs {
		if s.Key() == key {
			return *s
		}
	}
	return Service{}
}

func (e *fakeEnv) set(key string, f func(*Service)) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	for _, s := range e.svcs {
		if s.Key() == key {
			f(s)
		}
	}
}

func (e *fakeEnv) Services(context.Context) ([]Service, error) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	var out []Service
	for _, s := range e.svcs {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (e *fakeEnv) Service(_ context.Context, id string) (Service, error) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	e.reads++
	if e.failReads > 0 {
		e.failReads--
		return Service{}, errUnavailable
	}
	s, ok := e.svcs[id]
	if !ok {
		return Service{}, ErrNotFound
	}
	return *s, nil
}

func (e *fakeEnv) Hosts(context.Context) ([]Host, error) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	return slices.Clone(e.hosts), nil
}

var errUnavailable = errors.New("503 Service Unavailable")

func notAvailable(action, state string) error {
	return fmt.Errorf("%s in state %s: 422 ActionNotAvailable: %w: %w", action, state, ErrActionNotAvailable, ErrRejected)
}

// later runs f under the lock after d, if the service's generation has not
// moved on.
func (e *fakeEnv) later(s *Service, d time.Duration, f func(*Service)) {
	if e.gen == nil {
		e.gen = map[string]int{}
	}
	e.gen[s.ID]++
	g := e.gen[s.ID]
	go func() {
		time.Sleep(d)
		e.w.mu.Lock()
		defer e.w.mu.Unlock()
		if e.gen[s.ID] == g {
			f(s)
		}
	}()
}

func (e *fakeEnv) logWrite(op string, s *Service) {
	e.w.log = append(e.w.log, action{at: time.Now(), env: e.name, op: op, svc: s.Key()})
}

func (e *fakeEnv) Upgrade(_ context.Context, id string, u Upgrade) (Service, error) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	s := e.svcs[id]
	e.logWrite("upgrade", s)
	if e.failUpgrade > 0 {
		e.failUpgrade--
		return Service{}, errUnavailable
	}
	if e.rejectUpgrade {
		return Service{}, notAvailable("upgrade", "upgraded")
	}
	switch s.State {
	case StateActive, StateInactive, "activating", "updating-active":
	default:
		return Service{}, notAvailable("upgrade", s.State)
	}
	s.PreviousImage, s.Image = s.Image, u.Image
	s.PreviousSidekicks, s.Sidekicks = s.Sidekicks, u.Sidekicks
	s.State, s.Transitioning, s.NewUnits = StateUpgrading, "yes", 0
	n := batches(s.Scale, u.Strategy.BatchSize)
	per := 100 * time.Millisecond
	total := time.Duration(n)*per + time.Duration(max(n-1, 0))*time.Duration(u.Strategy.IntervalMillis)*time.Millisecond
	if !e.stuck[u.Image] {
		e.later(s, total, func(s *Service) {
			s.State, s.Transitioning, s.NewUnits = StateUpgraded, "no", s.Scale
			s.HealthState = HealthHealthy
			if e.bad[s.Image] {
				s.HealthState = "unhealthy"
			}
		})
	} else {
		e.later(s, 0, func(*Service) {})
	}
	out := *s
	if e.failAfterApply > 0 {
		e.failAfterApply--
		return Service{}, errUnavailable
	}
	return out, nil
}

func (e *fakeEnv) FinishUpgrade(_ context.Context, id string) (Service, error) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	s := e.svcs[id]
	e.logWrite("finish", s)
	if s.State != StateUpgraded {
		return Service{}, notAvailable("finishupgrade", s.State)
	}
	s.State, s.Transitioning = "finishing-upgrade", "yes"
	e.later(s, 200*time.Millisecond, func(s *Service) { s.State, s.Transitioning, s.NewUnits = StateActive, "no", -1 })
	return *s, nil
}

func (e *fakeEnv) Rollback(_ context.Context, id string) (Service, error) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	s := e.svcs[id]
	e.logWrite("rollback", s)
	if e.rollbackErr != nil {
		return Service{}, e.rollbackErr
	}
	switch s.State {
	case StateUpgrading, StateUpgraded, StateCanceledUpgrade:
	default:
		return Service{}, notAvailable("rollback", s.State)
	}
	s.State, s.Transitioning = "rolling-back", "yes"
	e.later(s, 300*time.Millisecond, func(s *Service) {
		s.Image, s.Sidekicks = s.PreviousImage, s.PreviousSidekicks
		s.State, s.Transitioning, s.HealthState, s.NewUnits = StateActive, "no", HealthHealthy, -1
	})
	return *s, nil
}

func (e *fakeEnv) Wait(ctx context.Context, id string, done func(Service) bool) (Service, error) {
	e.w.mu.Lock()
	if e.failWaits > 0 {
		e.failWaits--
		e.w.mu.Unlock()
		_ = ctxsleep.Sleep(ctx, 2*time.Second)
		return Service{}, errors.New("websocket: connection reset")
	}
	e.w.mu.Unlock()
	for {
		s, err := e.Service(ctx, id)
		if err != nil {
			return Service{}, err
		}
		if done(s) {
			return s, nil
		}
		if err := ctxsleep.Sleep(ctx, 50*time.Millisecond); err != nil {
			return s, fmt.Errorf("wait for %s: %w", id, err)
		}
	}
}

// target builds an EnvTarget with the given service -> image pairs.
func target(env string, wave int, pairs ...string) EnvTarget {
	t := EnvTarget{Name: env, Wave: wave, Strategy: Strategy{BatchSize: 1, IntervalMillis: 2000}, Concurrency: 2}
	for _, p := range pairs {
		svc, img, _ := strings.Cut(p, "=")
		t.Services = append(t.Services, ServiceTarget{Service: svc, Image: Image{Ref: img}})
	}
	return t
}
