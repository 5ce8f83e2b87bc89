package adapt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rollout"
)

// RancherProject adapts a typed client bound to one project (environment)
// to the engine's Rancher interface. Errors the server refused (4xx) are
// wrapped with ErrRejected (and ErrActionNotAvailable, ErrNotFound) so the
// engine can decide; the client's own error stays in the chain.
type RancherProject struct {
	c       *rancher.Client
	project string

	mu     sync.Mutex
	stacks map[string]string // stack id -> name
	last   map[string]seen   // service id -> its last state seen
	units  map[string]counted
	iw     *rancher.InstanceWatch // from the first upgrade or count on
}

// counted is a service's last count of units on the new image.
type counted struct {
	image string
	n     int
	at    time.Time
}

// unitsEvery bounds how often a service's instances are listed to count
// its batch progress when the event stream cannot tell (it is off, or was
// down since the last count): the count is for the display and the stall
// watch, which need seconds, not every event (listing on every event
// doubled the Rancher requests per upgrade).
const unitsEvery = 3 * time.Second

// seen is the last state of a service the adapter read (GET) or an action
// answered with.
type seen struct {
	svc  *rancher.Service
	at   time.Time
	read bool // a GET's answer, not an action's
}

// freshFor is how long a read of a service stands in for a new one when a
// wait starts: a wait whose condition that read already meets returns it
// without a request. It is far below the second over which Rancher merges
// its change events, so no wait could learn of a later change sooner; the
// engine starts its health wait just after the read that saw upgraded.
const freshFor = 250 * time.Millisecond

func (r *RancherProject) remember(s *rancher.Service, read bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last[s.ID] = seen{svc: s, at: time.Now(), read: read}
}

// NewRancherProject binds c to project (an id or a name, resolved once).
func NewRancherProject(ctx context.Context, c *rancher.Client, project string) (*RancherProject, error) {
	p, err := c.Project(ctx, project)
	if err != nil {
		return nil, mapErr(err)
	}
	return &RancherProject{c: c, project: p.ID, stacks: map[string]string{}, last: map[string]seen{}, units: map[string]counted{}}, nil
}

// Services lists every service with its stack's name.
func (r *RancherProject) Services(ctx context.Context) ([]rollout.Service, error) {
	stacks, err := r.c.Stacks(ctx, r.project)
	if err != nil {
		return nil, mapErr(err)
	}
	r.mu.Lock()
	for _, st := range stacks {
		r.stacks[st.ID] = st.Name
	}
	r.mu.Unlock()
	svcs, err := r.c.Services(ctx, r.project)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]rollout.Service, 0, len(svcs))
	for i := range svcs {
		out = append(out, r.convert(&svcs[i]))
	}
	return out, nil
}

// Service re-reads one service.
func (r *RancherProject) Service(ctx context.Context, id string) (rollout.Service, error) {
	s, err := r.c.ServiceByID(ctx, r.project, id)
	if err != nil {
		return rollout.Service{}, mapErr(err)
	}
	r.remember(s, true)
	return r.withUnits(ctx, s), nil
}

// withUnits is convert with NewUnits counted during an upgrade: the
// service's running containers of its primary launch config on the new
// image (what the engine shows as the batch). They are counted from the
// instance changes on the event stream (tracked since the upgrade was
// sent); only when the stream cannot tell are they listed, at most every
// unitsEvery, and that listing is the base for the events that follow. A
// failed count leaves it unknown (-1); it is progress, not a decision.
func (r *RancherProject) withUnits(ctx context.Context, s *rancher.Service) rollout.Service {
	out := r.convert(s)
	if (s.State != rollout.StateUpgrading && s.State != rollout.StateUpgraded) || s.LaunchConfig == nil {
		return out
	}
	image := s.LaunchConfig.ImageUUID()
	iw := r.watch()
	if is, ok := iw.Instances(s.ID); ok {
		out.NewUnits = newUnits(is, image)
		return out
	}
	r.mu.Lock()
	last, ok := r.units[s.ID]
	r.mu.Unlock()
	if ok && last.image == image && time.Since(last.at) < unitsEvery {
		out.NewUnits = last.n
		return out
	}
	is, err := iw.List(ctx, s)
	if err != nil {
		return out
	}
	out.NewUnits = newUnits(is, image)
	r.mu.Lock()
	r.units[s.ID] = counted{image: image, n: out.NewUnits, at: time.Now()}
	r.mu.Unlock()
	return out
}

// newUnits counts the running containers of the primary launch config on
// image.
func newUnits(is []rancher.Instance, image string) int {
	n := 0
	for _, i := range is {
		lc := i.Labels["io.rancher.service.launch.config"]
		primary := lc == "" || lc == "io.rancher.service.primary.launch.config"
		if primary && i.State == "running" && i.ImageUUID == image {
			n++
		}
	}
	return n
}

// watch returns the project's instance watch, started on first use (it
// connects the project's event stream, which then stays up until the
// client is closed).
func (r *RancherProject) watch() *rancher.InstanceWatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.iw == nil {
		r.iw = r.c.WatchInstances(r.project)
	}
	return r.iw
}

// Hosts lists the project's hosts; State is "active" only when the agent
// is too (Rancher runs new containers only there).
func (r *RancherProject) Hosts(ctx context.Context) ([]rollout.Host, error) {
	hs, err := r.c.Hosts(ctx, r.project)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]rollout.Host, 0, len(hs))
	for _, h := range hs {
		st := h.State
		if st == rollout.StateActive && !h.Active() {
			st = h.AgentState
		}
		name := h.Hostname
		if name == "" {
			name = h.Name
		}
		out = append(out, rollout.Host{ID: h.ID, Name: name, AgentIP: h.AgentIPAddress, State: st, Labels: h.Labels})
	}
	return out, nil
}

// Upgrade sends the service's current launch config back with only the
// image(s) changed (the client re-reads it first and keeps unknown fields).
//
// The service's instances are tracked on the event stream from just before
// the upgrade is sent, to count its batches (NewUnits) without listing.
func (r *RancherProject) Upgrade(ctx context.Context, id string, u rollout.Upgrade) (rollout.Service, error) {
	r.watch().Track(ctx, id)
	s := &rancher.Service{Resource: rancher.Resource{ID: id, Type: "service", AccountID: r.project}}
	out, err := r.c.Upgrade(ctx, s, rancher.UpgradeSpec{
		Image: u.Image, Sidekicks: u.Sidekicks,
		BatchSize: u.Strategy.BatchSize, IntervalMillis: u.Strategy.IntervalMillis, StartFirst: u.Strategy.StartFirst,
	})
	if err != nil {
		return rollout.Service{}, mapErr(err)
	}
	r.remember(out, false)
	return r.convert(out), nil
}

// FinishUpgrade starts finishupgrade.
func (r *RancherProject) FinishUpgrade(ctx context.Context, id string) (rollout.Service, error) {
	return r.action(ctx, id, r.c.FinishUpgrade)
}

// Rollback starts rollback.
func (r *RancherProject) Rollback(ctx context.Context, id string) (rollout.Service, error) {
	return r.action(ctx, id, r.c.Rollback)
}

// action posts an action on the service, to the link of the last state
// seen of it (the engine has always read it shortly before: the soak's
// health reads, the wait that saw it upgraded). Only without one is it
// read first. A stale link is no risk: the server decides whether the
// action is allowed now (422 ActionNotAvailable if not), and a state whose
// actions lack it is re-read by the client before it refuses locally.
func (r *RancherProject) action(ctx context.Context, id string, f func(context.Context, *rancher.Service) (*rancher.Service, error)) (rollout.Service, error) {
	r.mu.Lock()
	s := r.last[id].svc
	r.mu.Unlock()
	if s == nil {
		var err error
		if s, err = r.c.ServiceByID(ctx, r.project, id); err != nil {
			return rollout.Service{}, mapErr(err)
		}
	}
	out, err := f(ctx, s)
	if err != nil {
		return rollout.Service{}, mapErr(err)
	}
	r.remember(out, false)
	r.mu.Lock()
	iw := r.iw
	r.mu.Unlock()
	if iw != nil {
		iw.Untrack(id) // its batches are counted no more
	}
	return r.convert(out), nil
}

// Wait waits through the client's websocket (polling as the fallback). A
// read of the service younger than freshFor that already meets done ends
// the wait without a request; an action's answer never does.
func (r *RancherProject) Wait(ctx context.Context, id string, done func(rollout.Service) bool) (rollout.Service, error) {
	r.mu.Lock()
	last := r.last[id]
	r.mu.Unlock()
	if last.read && time.Since(last.at) < freshFor {
		if x := r.convert(last.svc); done(x) {
			return x, nil
		}
	}
	s := &rancher.Service{Resource: rancher.Resource{ID: id, Type: "service", AccountID: r.project}}
	out, err := r.c.WaitFor(ctx, s, func(x *rancher.Service) (bool, error) { return done(r.withUnits(ctx, x)), nil })
	if err != nil {
		if out != nil {
			return r.convert(out), mapErr(err)
		}
		return rollout.Service{}, mapErr(err)
	}
	r.remember(out, true)
	return r.withUnits(ctx, out), nil
}

func (r *RancherProject) convert(s *rancher.Service) rollout.Service {
	r.mu.Lock()
	stack := r.stacks[s.StackID]
	r.mu.Unlock()
	out := rollout.Service{
		ID: s.ID, Stack: stack, Name: s.Name, State: s.State, HealthState: s.HealthState,
		Transitioning: s.Transitioning, TransitioningMessage: s.TransitioningMessage,
		Scale: s.Scale, Image: s.Image(), NewUnits: -1,
	}
	if s.LaunchConfig != nil {
		out.Labels = s.LaunchConfig.Labels()
		out.HostPorts = hostPortsOf(s.LaunchConfig)
	}
	out.Sidekicks = sidekickImages(s.SecondaryLaunchConfigs)
	if u := s.Upgrade; u != nil && u.InServiceStrategy != nil {
		if p := u.InServiceStrategy.PreviousLaunchConfig; p != nil {
			out.PreviousImage = p.Image()
		}
		out.PreviousSidekicks = sidekickImages(u.InServiceStrategy.PreviousSecondaryLaunchConfigs)
	}
	return out
}

func sidekickImages(lcs []*rancher.LaunchConfig) map[string]string {
	var m map[string]string
	for _, lc := range lcs {
		if lc == nil {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[lc.Name()] = lc.Image()
	}
	return m
}

// mapErr adds the engine's sentinels to a client error.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var ae *rancher.APIError
	switch {
	case errors.Is(err, rancher.ErrActionNotAvailable):
		return fmt.Errorf("%w (%w, %w)", err, rollout.ErrActionNotAvailable, rollout.ErrRejected)
	case errors.Is(err, rancher.ErrNotFound):
		return fmt.Errorf("%w (%w, %w)", err, rollout.ErrNotFound, rollout.ErrRejected)
	case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusConflict:
		return fmt.Errorf("%w (%w)", err, rollout.ErrRejected)
	}
	return err
}

// Connections connects to each environment's Rancher project with the keys
// the inventory names, one client per environment, and closes them.
type Connections struct {
	inv    *inventory.Inventory
	getenv func(string) string
	opts   []rancher.Option
	logger *slog.Logger // the lease stores' (the clients' is in opts)

	mu      sync.Mutex
	clients []*rancher.Client
}

// NewConnections returns the connections over the inventory (its Connect is
// a rollout.Connector). When an environment names no credentials,
// RANCHER_ACCESS_KEY/RANCHER_SECRET_KEY are used; when the inventory names
// no URL, RANCHER_URL.
func NewConnections(inv *inventory.Inventory, getenv func(string) string, opts ...rancher.Option) *Connections {
	return &Connections{inv: inv, getenv: getenv, opts: opts, logger: slog.New(slog.DiscardHandler)}
}

// UseLogger gives the clients Connect makes, and the lease stores, l for
// their debug logs: requests and statuses, event stream reconnects; never
// keys. Call it before the first Connect (the default discards).
func (cs *Connections) UseLogger(l *slog.Logger) {
	cs.opts = append(cs.opts, rancher.WithLogger(l))
	cs.logger = l
}

// Check reports, for every environment named, what keeps Connect from
// trying at all: no Rancher URL, or a key variable the inventory names
// unset. These are
// configuration errors (retrying does not help); a caller checks before it
// starts, so nothing is changed. The error joins every problem.
func (cs *Connections) Check(envs []string) error {
	var errs []error
	for _, env := range envs {
		if _, err := cs.settings(env); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// settings is an environment's Rancher connection (rancher.Resolve).
func (cs *Connections) settings(env string) (rancher.Settings, error) {
	return rancher.Resolve(cs.inv, env, cs.getenv)
}

// Connect is a rollout.Connector: it connects to env's project.
func (cs *Connections) Connect(ctx context.Context, env string) (rollout.Rancher, error) {
	st, err := cs.settings(env)
	if err != nil {
		return nil, err
	}
	c, err := st.Client(cs.opts...)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	cs.clients = append(cs.clients, c)
	cs.mu.Unlock()
	return NewRancherProject(ctx, c, st.ProjectFor(c))
}

// RancherHosts is fleet.Discover's clientFor (and HostPresence.ThroughRancher's):
// a client for environment e with the keys the inventory names, closed by
// Close with the others, and the project to list hosts in.
func (cs *Connections) RancherHosts(e *inventory.Environment) (fleet.RancherHosts, string, error) {
	st, err := cs.settings(e.Name)
	if err != nil {
		return nil, "", err
	}
	c, err := st.Client(cs.opts...)
	if err != nil {
		return nil, "", err
	}
	cs.mu.Lock()
	cs.clients = append(cs.clients, c)
	cs.mu.Unlock()
	return c, st.ProjectFor(c), nil
}

// Close closes every client (their event subscriptions).
func (cs *Connections) Close() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var errs []error
	for _, c := range cs.clients {
		errs = append(errs, c.Close())
	}
	cs.clients = nil
	return errors.Join(errs...)
}
