package ranchersim

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// process is the one goroutine acting on a service. A new action cancels the running
// process and starts only once it has returned.
type process struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// retryableError marks failures after which the process stays "transitioning: yes"
// (a health wait timing out); other errors set "transitioning: error".
type retryableError struct{ msg string }

func (e *retryableError) Error() string { return e.msg }

// startProcess puts svc in its transitional state and runs run in a goroutine, retrying
// it after the retry delay while it fails. run sets the end state itself (with
// s.finishLocked). Called with s.mu held.
func (s *Server) startProcess(svc *Service, transitional string, run func(ctx context.Context) error) {
	prev := svc.proc
	if prev != nil {
		prev.cancel()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	p := &process{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	svc.proc = p
	svc.state = transitional
	svc.transitioning = "yes"
	svc.transMsg = strPtr("In Progress")
	s.touch(svc)
	started := s.goLocked(func() {
		defer close(p.done)
		defer cancel()
		if prev != nil {
			select {
			case <-prev.done:
			case <-ctx.Done():
				return
			}
		}
		for {
			err := run(ctx)
			if err == nil || ctx.Err() != nil {
				return
			}
			s.opts.logger.Debug("process failed", "service", svc.id, "state", transitional, "err", err)
			s.locked(ctx, func() {
				var re *retryableError
				if errors.As(err, &re) {
					svc.transitioning = "yes"
				} else {
					svc.transitioning = "error"
				}
				svc.transMsg = strPtr(err.Error())
				s.touch(svc)
			})
			if !sleep(ctx, s.opts.retryDelay) {
				return
			}
			// A timeout is retried "In Progress"; an error stays until a retry makes
			// progress (a container starts) or the process ends, as in Cattle, where
			// transitioning "error" is not final and clears when a retry succeeds.
			s.locked(ctx, func() {
				if svc.transitioning == "yes" {
					svc.transMsg = strPtr("In Progress")
					s.touch(svc)
				}
			})
		}
	})
	if !started {
		close(p.done)
		cancel()
	}
}

// locked runs f under s.mu unless ctx has ended (the process was superseded or the
// server closed); it reports whether f ran. Since processes are cancelled under s.mu,
// a process never mutates the service after it has been superseded.
func (s *Server) locked(ctx context.Context, f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	f()
	return true
}

// finishLocked ends the process: the service rests in state. Called with s.mu held.
func (s *Server) finishLocked(svc *Service, state string) {
	svc.state = state
	svc.transitioning = "no"
	svc.transMsg = nil
	s.touch(svc)
}

func strPtr(s string) *string { return &s }

// startUnit makes every launch config of deployment unit u run its current version:
// a stopped current container is started again, a missing one is created (pulling the
// image on the host as the agent would).
func (s *Server) startUnit(ctx context.Context, svc *Service, u int) error {
	s.mu.Lock()
	names := svc.configNames()
	s.mu.Unlock()
	for _, name := range names {
		if err := s.startConfig(ctx, svc, u, name); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) startConfig(ctx context.Context, svc *Service, u int, name string) error {
	var stopped *container
	running := false
	if !s.locked(ctx, func() {
		for _, c := range svc.containers() {
			if c.unit != u || c.lc != name || !c.current() {
				continue
			}
			switch {
			case c.state == "running", c.startedOnce():
				running = true // a start_once container that ran is done
			case c.state == "stopped":
				if stopped == nil || c.num > stopped.num {
					stopped = c
				}
			}
		}
	}) {
		return ctx.Err()
	}
	switch {
	case running:
		return nil
	case stopped != nil:
		return s.startContainer(stopped)
	default:
		return s.createContainer(ctx, svc, u, name)
	}
}

// createContainer schedules, pulls, creates and starts a new container.
func (s *Server) createContainer(ctx context.Context, svc *Service, u int, name string) error {
	s.mu.Lock()
	if ctx.Err() != nil {
		s.mu.Unlock()
		return ctx.Err()
	}
	lc, ok := svc.configFor(name)
	if !ok {
		s.mu.Unlock()
		return nil
	}
	ref := imageRef(lc)
	always := lcLabel(lc, LabelPullImage) == "always"
	host, err := s.scheduleLocked(svc, u, lc)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	c := s.newContainerLocked(svc, u, name, lc, host)
	eng := host.engine
	s.mu.Unlock()

	fail := func(err error) error {
		s.mu.Lock()
		c.state = "error"
		now := s.now()
		c.removed = &now
		s.touch(c)
		s.mu.Unlock()
		return err
	}
	if err := eng.EnsureImage(ctx, ref, always); err != nil {
		return fail(fmt.Errorf("pull %s on %s: %w", ref, host.name, err))
	}
	id, err := eng.CreateContainer(c.dockerName, ref)
	if err != nil {
		return fail(fmt.Errorf("create container %s on %s: %w", c.name, host.name, err))
	}
	s.mu.Lock()
	c.externalID = id
	c.state = "starting"
	s.touch(c)
	s.mu.Unlock()
	if err := eng.StartContainer(id); err != nil {
		_ = eng.RemoveContainer(id)
		return fail(fmt.Errorf("start container %s on %s: %w", c.name, host.name, err))
	}
	s.mu.Lock()
	c.state = "running"
	c.starts++
	s.startHealthLocked(c)
	s.progressLocked(c.svc)
	s.touch(c)
	s.mu.Unlock()
	return s.exitStartOnce(c)
}

// exitStartOnce ends a start_once container's run: its job is done once it started.
func (s *Server) exitStartOnce(c *container) error {
	if !c.startOnce {
		return nil
	}
	return s.stopContainer(c)
}

// startedOnce reports whether c is a start_once container that ran and exited
// (ServiceDiscoveryServiceImpl.isStartOnce). Called with s.mu held.
func (c *container) startedOnce() bool {
	return c.startOnce && c.starts >= 1 && (c.state == "stopped" || c.state == "stopping")
}

// progressLocked clears a process error once a retry makes progress. Called with
// s.mu held.
func (s *Server) progressLocked(svc *Service) {
	if svc.transitioning == "error" {
		svc.transitioning = "yes"
		svc.transMsg = strPtr("In Progress")
		s.touch(svc)
	}
}

func (s *Server) newContainerLocked(svc *Service, u int, name string, lc map[string]any, host *Host) *container {
	id := s.nextID("1i")
	rname := svc.stack.name + "-" + svc.name + "-" + fmt.Sprint(u)
	if name != "" {
		rname = svc.stack.name + "-" + svc.name + "-" + name + "-" + fmt.Sprint(u)
	}
	unitUUID := ""
	for _, c := range svc.p.containers {
		if c.svc == svc && c.unit == u && c.unitUUID != "" {
			unitUUID = c.unitUUID
		}
	}
	if unitUUID == "" {
		unitUUID = newUUID()
	}
	c := &container{p: svc.p, svc: svc, id: id, num: idNum(id), name: rname, lc: name, unit: u,
		unitUUID: unitUUID, version: lcVersion(lc), imageRef: imageRef(lc), ports: hostPorts(lc), host: host,
		startOnce: strings.EqualFold(lcLabel(lc, LabelStartOnce), "true"),
		state:     "creating", uuid: newUUID(), created: s.now()}
	c.dockerName = "r-" + rname + "-" + c.uuid[:8]
	c.hasHC, c.hcDelay = healthCheckOf(lc)
	if s.opts.healthDelay > 0 {
		c.hcDelay = s.opts.healthDelay
	}
	for _, p := range append(append([]string(nil), svc.neverHealthy...), s.neverHealthy...) {
		if globMatch(p, c.imageRef) {
			c.never = true
		}
	}
	for _, p := range s.neverSvcs {
		if globMatch(p, svc.stack.name+"/"+svc.name) || globMatch(p, svc.name) {
			c.never = true
		}
	}
	svc.p.containers = append(svc.p.containers, c)
	s.touch(c)
	return c
}

func (s *Server) startContainer(c *container) error {
	if err := s.startStopped(c); err != nil {
		return err
	}
	return s.exitStartOnce(c)
}

func (s *Server) startStopped(c *container) error {
	s.mu.Lock()
	c.state = "starting"
	eng, id := c.host.engine, c.externalID
	s.touch(c)
	s.mu.Unlock()
	err := eng.StartContainer(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		c.state = "stopped"
		s.touch(c)
		return fmt.Errorf("start container %s on %s: %w", c.name, c.host.name, err)
	}
	c.state = "running"
	c.starts++
	s.startHealthLocked(c)
	s.progressLocked(c.svc)
	s.touch(c)
	return nil
}

func (s *Server) stopContainer(c *container) error {
	s.mu.Lock()
	if c.state != "running" {
		s.mu.Unlock()
		return nil
	}
	c.state = "stopping"
	s.stopHealthLocked(c)
	eng, id := c.host.engine, c.externalID
	s.touch(c)
	s.mu.Unlock()
	err := eng.StopContainer(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		c.state = "running"
		s.touch(c)
		return fmt.Errorf("stop container %s on %s: %w", c.name, c.host.name, err)
	}
	c.state = "stopped"
	s.touch(c)
	return nil
}

func (s *Server) removeContainer(c *container) error {
	if err := s.stopContainer(c); err != nil {
		return err
	}
	s.mu.Lock()
	if c.removed != nil {
		s.mu.Unlock()
		return nil
	}
	prev := c.state
	c.state = "removing"
	eng, id := c.host.engine, c.externalID
	s.touch(c)
	s.mu.Unlock()
	err := eng.RemoveContainer(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		c.state = prev
		s.touch(c)
		return fmt.Errorf("remove container %s on %s: %w", c.name, c.host.name, err)
	}
	c.state = "removed"
	now := s.now()
	c.removed = &now
	s.touch(c)
	return nil
}

// scheduleLocked picks the host for a new container of unit u: the host of the unit's
// other current containers (sidekicks stay with their primary), else the schedulable
// host matching the affinity labels, with the launch config's published host ports
// free, with the fewest containers of the service. When only the ports are in the
// way the error is Cattle's "host needs ports ... available".
func (s *Server) scheduleLocked(svc *Service, u int, lc map[string]any) (*Host, error) {
	ports := hostPorts(lc)
	for _, c := range svc.containers() {
		if c.unit == u && c.current() && c.host != nil && c.state != "error" {
			if !c.host.schedulable() {
				//nolint:staticcheck // ST1005: Cattle's own transitioningMessage wording
				return nil, fmt.Errorf("Allocation failed: host %s of deployment unit %d is %s", c.host.name, u, c.host.reportedState())
			}
			if !c.host.portsFree(ports) {
				return nil, errPortsTaken(ports)
			}
			return c.host, nil
		}
	}
	want := parseAffinity(lcLabel(lc, LabelHostAffinity))
	var best *Host
	bestN := 0
	portsTaken := false
	for _, h := range svc.p.hosts {
		if !h.schedulable() || !h.matches(want) {
			continue
		}
		if !h.portsFree(ports) {
			portsTaken = true
			continue
		}
		n := 0
		for _, c := range svc.containers() {
			if c.host == h && c.current() {
				n++
			}
		}
		if best == nil || n < bestN {
			best, bestN = h, n
		}
	}
	if best == nil && portsTaken {
		return nil, errPortsTaken(ports)
	}
	if best == nil {
		//nolint:staticcheck // ST1005: Cattle's own transitioningMessage wording
		return nil, fmt.Errorf("Allocation failed: no active host satisfies the scheduling constraints of %s/%s", svc.stack.name, svc.name)
	}
	return best, nil
}

func parseAffinity(v string) map[string]string {
	out := map[string]string{}
	for _, kv := range splitNonEmpty(v, ",") {
		k, val, _ := cutTrim(kv, "=")
		out[k] = val
	}
	return out
}

func (h *Host) matches(want map[string]string) bool {
	for k, v := range want {
		if got, ok := h.labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (h *Host) reportedState() string {
	if h.state == "active" && h.agentState != "" {
		return h.agentState
	}
	return h.state
}
