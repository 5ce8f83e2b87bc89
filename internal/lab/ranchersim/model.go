package ranchersim

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Keys is an API key pair: Access is the Basic auth user, Secret the password.
type Keys struct{ Access, Secret string }

// Engine is what the simulator needs from a Docker host: the Rancher agent's part of
// creating, starting, stopping and removing containers. The lab's *dockersim.Host
// implements it.
type Engine interface {
	// EnsureImage pulls ref if it is missing locally, or always when always is true.
	EnsureImage(ctx context.Context, ref string, always bool) error
	CreateContainer(name, ref string) (string, error)
	StartContainer(id string) error
	StopContainer(id string) error
	RemoveContainer(id string) error
}

// Project is a Rancher environment. Its methods are safe for concurrent use.
type Project struct {
	s       *Server
	id      string
	name    string
	keys    Keys
	uuid    string
	created time.Time

	stacks     []*Stack
	services   []*Service
	hosts      []*Host
	containers []*container
	generics   []*genericObject
}

// ID returns the project id, such as "1a5".
func (p *Project) ID() string { return p.id }

// Name returns the project name.
func (p *Project) Name() string { return p.name }

// Stack is a group of services.
type Stack struct {
	p       *Project
	id      string
	num     int
	name    string
	uuid    string
	created time.Time
}

// ID returns the stack id, such as "1st3".
func (st *Stack) ID() string { return st.id }

// Host is a Docker host registered in a project.
type Host struct {
	p          *Project
	id         string
	num        int
	name       string
	agentIP    string
	labels     map[string]string
	engine     Engine
	state      string
	agentState string
	uuid       string
	created    time.Time
}

// ID returns the host id, such as "1h2".
func (h *Host) ID() string { return h.id }

// SetState sets the host's state and agentState (agentState "" means unset). Only hosts
// whose state is "active" and whose agentState is unset or "active" get new containers.
// The API reports state as agentState when both are set (a Cattle quirk).
func (h *Host) SetState(state, agentState string) {
	s := h.p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	h.state, h.agentState = state, agentState
	s.touch(h)
}

func (h *Host) schedulable() bool {
	return h.state == "active" && (h.agentState == "" || h.agentState == "active")
}

// Service is a Rancher service. Its fields are read through the API; the methods here
// are conveniences for tests and the lab.
type Service struct {
	p           *Project
	stack       *Stack
	id          string
	num         int
	name        string
	kind        string
	uuid        string
	created     time.Time
	createIndex int

	state         string
	transitioning string
	transMsg      *string
	scale         int
	launchConfig  map[string]any
	secondary     []map[string]any
	upgrade       map[string]any
	strategy      strategy
	retainIP      *bool
	neverHealthy  []string
	removed       *time.Time
	proc          *process
}

// ID returns the service id, such as "1s12".
func (svc *Service) ID() string { return svc.id }

// StackID returns the id of the service's stack.
func (svc *Service) StackID() string { return svc.stack.id }

// State returns the service's current state.
func (svc *Service) State() string {
	s := svc.p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return svc.state
}

// Status is a snapshot of a service's public fields.
type Status struct {
	State, HealthState, Transitioning, TransitioningMessage, Image string
	Scale, Containers, Running                                     int
}

// Status returns a snapshot of the service.
func (svc *Service) Status() Status {
	s := svc.p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{State: svc.state, HealthState: svc.healthState(), Transitioning: svc.transitioning,
		Image: imageRef(svc.launchConfig), Scale: svc.scale}
	if svc.transMsg != nil {
		st.TransitioningMessage = *svc.transMsg
	}
	for _, c := range svc.containers() {
		st.Containers++
		if c.state == "running" {
			st.Running++
		}
	}
	return st
}

// WaitState waits until the service is in state and not transitioning (or until ctx ends).
func (svc *Service) WaitState(ctx context.Context, state string) error {
	s := svc.p.s
	for {
		s.mu.Lock()
		ok := svc.state == state && svc.transitioning == "no"
		ch, cur := s.changed, svc.state
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for service %s to be %s (now %s): %w", svc.name, state, cur, ctx.Err())
		}
	}
}

// container is a service's container (a Rancher instance).
type container struct {
	p          *Project
	svc        *Service
	id         string
	num        int
	name       string
	dockerName string
	lc         string // "" for the primary launch config, else the sidekick's name
	unit       int
	unitUUID   string
	version    string
	imageRef   string
	ports      []hostPort // published host ports, from its launch config
	startOnce  bool       // label io.rancher.container.start_once=true: runs once, then exits
	starts     int        // how many times it reached running
	host       *Host
	externalID string
	state      string
	health     *string
	hcDelay    time.Duration
	hasHC      bool
	never      bool
	hcCancel   context.CancelFunc
	uuid       string
	created    time.Time
	removed    *time.Time
}

// AddProject adds an environment reachable with keys (HTTP Basic: access key as user,
// secret as password). It panics if keys are empty, since that is a programming error.
func (s *Server) AddProject(name string, keys Keys) *Project {
	if keys.Access == "" || keys.Secret == "" {
		panic("ranchersim: AddProject needs both keys")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &Project{s: s, id: s.nextID("1a"), name: name, keys: keys, uuid: newUUID(), created: s.now()}
	s.projects = append(s.projects, p)
	return p
}

// AddHost registers a host with its agent IP, labels and engine. The host starts active.
func (p *Project) AddHost(name, agentIP string, labels map[string]string, engine Engine) *Host {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("1h")
	h := &Host{p: p, id: id, num: idNum(id), name: name, agentIP: agentIP, labels: map[string]string{},
		engine: engine, state: "active", uuid: newUUID(), created: s.now()}
	for k, v := range labels {
		h.labels[k] = v
	}
	p.hosts = append(p.hosts, h)
	s.touch(h)
	// A new host may unblock a service waiting for an eligible host.
	return h
}

// SetHostState sets the state and agentState of the host named name (see [Host.SetState]).
func (p *Project) SetHostState(name, state, agentState string) error {
	s := p.s
	s.mu.Lock()
	var h *Host
	for _, x := range p.hosts {
		if x.name == name || x.id == name {
			h = x
		}
	}
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("set state of host %s in %s: no such host", name, p.name)
	}
	h.SetState(state, agentState)
	return nil
}

// AddService creates a service (and its stack if needed) running image with scale
// deployment units, as if created with startOnCreate: it is "activating" while its
// containers are created on the project's active hosts (pulling the image where it is
// missing), then "active". Use [Service.WaitState] to wait for it.
func (p *Project) AddService(stack, name, image string, scale int, opts ...ServiceOption) (*Service, error) {
	if stack == "" || name == "" || image == "" || scale < 0 {
		return nil, fmt.Errorf("add service %s/%s: stack, name and image required, scale >= 0", stack, name)
	}
	cfg := &serviceConfig{labels: map[string]string{}, extra: map[string]any{}}
	for _, o := range opts {
		if err := o(cfg); err != nil {
			return nil, fmt.Errorf("add service %s/%s: %w", stack, name, err)
		}
	}
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("add service %s/%s: %w", stack, name, ErrClosed)
	}
	var st *Stack
	for _, x := range p.stacks {
		if x.name == stack {
			st = x
		}
	}
	if st == nil {
		id := s.nextID("1st")
		st = &Stack{p: p, id: id, num: idNum(id), name: stack, uuid: newUUID(), created: s.now()}
		p.stacks = append(p.stacks, st)
		s.touch(st)
	}
	for _, x := range p.services {
		if x.stack == st && x.name == name && x.removed == nil {
			return nil, fmt.Errorf("add service %s/%s: already exists as %s", stack, name, x.id)
		}
	}
	id := s.nextID("1s")
	s.createIndex++
	svc := &Service{p: p, stack: st, id: id, num: idNum(id), name: name, kind: "service", uuid: newUUID(),
		created: s.now(), createIndex: s.createIndex, state: "registering", transitioning: "no", scale: scale,
		neverHealthy: cfg.neverHealthy}
	if cfg.retainIP {
		t := true
		svc.retainIP = &t
	}
	svc.launchConfig = newLaunchConfig(image, cfg)
	if len(cfg.ports) > 0 {
		svc.launchConfig["ports"] = append([]any(nil), cfg.ports...) // the primary's only
	}
	svc.secondary = []map[string]any{}
	for _, sk := range cfg.sidekicks {
		lc := newLaunchConfig(sk.image, cfg)
		lc["name"] = sk.name
		svc.secondary = append(svc.secondary, lc)
	}
	p.services = append(p.services, svc)
	s.startProcess(svc, "activating", s.runActivate(svc, "active"))
	return svc, nil
}

func newLaunchConfig(image string, cfg *serviceConfig) map[string]any {
	labels := map[string]any{}
	for k, v := range cfg.labels {
		labels[k] = v
	}
	lc := map[string]any{
		"type": "launchConfig", "dataVolumes": []any{}, "environment": map[string]any{},
		"imageUuid": "docker:" + image, "instanceTriggeredStop": "stop", "kind": "container",
		"labels": labels, "logConfig": map[string]any{"type": "logConfig"}, "networkMode": "managed",
		"ports": []any{}, "privileged": false, "publishAllPorts": false, "readOnly": false,
		"runInit": false, "secrets": []any{}, "startOnCreate": true, "stdinOpen": false,
		"system": false, "tty": false, "version": "0", "vcpu": 1, "drainTimeoutMs": 0,
	}
	if cfg.healthCheck != nil {
		lc["healthCheck"] = cfg.healthCheck
	}

	for k, v := range cfg.extra {
		lc[k] = v
	}
	// Normalize to what JSON decoding yields, so stored configs compare equal to sent ones.
	return cloneMap(lc)
}

// nextID returns the next id for a type prefix; ids are global like Cattle's database ids.
func (s *Server) nextID(prefix string) string {
	if s.ids == nil {
		s.ids = map[string]int{"1a": 4}
	}
	s.ids[prefix]++
	return prefix + strconv.Itoa(s.ids[prefix])
}

func idNum(id string) int {
	i := strings.LastIndexFunc(id, func(r rune) bool { return r < '0' || r > '9' })
	n, _ := strconv.Atoi(id[i+1:])
	return n
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// cloneMap deep-copies a JSON-like value through encoding/json, numbers kept as json.Number.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	var out map[string]any
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("ranchersim: clone: %v", err))
	}
	if err := decodeJSON(b, &out); err != nil {
		panic(fmt.Sprintf("ranchersim: clone: %v", err))
	}
	return out
}

func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	return d.Decode(v)
}

func imageRef(lc map[string]any) string {
	s, _ := lc["imageUuid"].(string)
	return strings.TrimPrefix(s, "docker:")
}

func lcVersion(lc map[string]any) string {
	s, _ := lc["version"].(string)
	return s
}

func lcLabel(lc map[string]any, key string) string {
	l, _ := lc["labels"].(map[string]any)
	s, _ := l[key].(string)
	return s
}

// configFor returns the service's desired launch config for a launch config name.
func (svc *Service) configFor(name string) (map[string]any, bool) {
	if name == "" {
		return svc.launchConfig, svc.launchConfig != nil
	}
	for _, lc := range svc.secondary {
		if n, _ := lc["name"].(string); n == name {
			return lc, true
		}
	}
	return nil, false
}

// configNames lists the launch config names: "" (primary) then the sidekicks.
func (svc *Service) configNames() []string {
	names := []string{""}
	for _, lc := range svc.secondary {
		n, _ := lc["name"].(string)
		names = append(names, n)
	}
	return names
}

// containers returns the service's containers that are not removed.
func (svc *Service) containers() []*container {
	var out []*container
	for _, c := range svc.p.containers {
		if c.svc == svc && c.removed == nil {
			out = append(out, c)
		}
	}
	return out
}

func (c *container) current() bool {
	lc, ok := c.svc.configFor(c.lc)
	return ok && lcVersion(lc) == c.version
}

func globMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, part := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, part)
		}
		j := strings.Index(s, part)
		if j < 0 {
			return false
		}
		s = s[j+len(part):]
	}
	return true
}
