package ranchersim

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// healthCheckOf reports whether lc has a health check and how long a new container
// stays initializing: interval (default 2000 ms) x healthyThreshold (default 2).
func healthCheckOf(lc map[string]any) (bool, time.Duration) {
	hc, ok := lc["healthCheck"].(map[string]any)
	if !ok {
		return false, 0
	}
	interval := numField(hc, "interval", 2000)
	threshold := numField(hc, "healthyThreshold", 2)
	return true, time.Duration(interval*threshold) * time.Millisecond
}

func numField(m map[string]any, key string, def int64) int64 {
	switch v := m[key].(type) {
	case float64:
		return int64(v)
	case int:
		return int64(v)
	case int64:
		return v
	case interface{ Int64() (int64, error) }:
		if n, err := v.Int64(); err == nil {
			return n
		}
	}
	return def
}

// startHealthLocked begins a running container's health: none without a health check;
// otherwise "initializing", then "healthy" after the delay unless the container is
// never healthy (a fault). Called with s.mu held.
func (s *Server) startHealthLocked(c *container) {
	s.stopHealthLocked(c)
	if !c.hasHC && !c.never {
		c.health = nil
		return
	}
	c.health = strPtr("initializing")
	if c.never {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	c.hcCancel = cancel
	delay := c.hcDelay
	if !s.goLocked(func() {
		defer cancel()
		if !sleep(ctx, delay) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if ctx.Err() == nil && c.state == "running" {
			c.health = strPtr("healthy")
			s.touch(c)
		}
	}) {
		cancel()
	}
}

func (s *Server) stopHealthLocked(c *container) {
	if c.hcCancel != nil {
		c.hcCancel()
		c.hcCancel = nil
	}
}

func healthyish(h *string) bool {
	return h == nil || *h == "healthy" || *h == "updating-healthy"
}

// healthState computes the service's healthState with Cattle's rule
// (calculateServiceHealthState): start_once containers that ran and exited count as
// healthy, and when they alone make the scale the service is "started-once". Called
// with s.mu held.
func (svc *Service) healthState() string {
	if svc.kind != "service" && svc.kind != "loadBalancerService" {
		return "healthy"
	}
	healthy, initializing, startedOnce := 0, false, 0
	for _, c := range svc.containers() {
		if c.startedOnce() {
			startedOnce++
		}
		if c.state != "running" {
			continue
		}
		if healthyish(c.health) {
			healthy++
		} else if *c.health == "initializing" {
			initializing = true
		}
	}
	expected := svc.scale * len(svc.configNames())
	if startedOnce > 0 && startedOnce >= expected {
		return "started-once"
	}
	healthy += startedOnce
	switch {
	case healthy >= expected:
		return "healthy"
	case initializing:
		return "initializing"
	case healthy > 0:
		return "degraded"
	default:
		return "unhealthy"
	}
}

// waitHealthy is Cattle's waitForHealthyState during an upgrade
// (UpgradeManagerImpl.getInstancesToCheckForHealth): it checks only the containers at
// the service's current launch-config versions (the new ones; old containers a
// startFirst batch still runs are not waited for), those running when the wait
// starts, one after the other, each for up to the health timeout (45 s by default,
// resource.monitor.default.wait.millis). A timeout is a retryable error.
func (s *Server) waitHealthy(ctx context.Context, svc *Service) error {
	cs, err := s.snapshot(ctx, func() []*container {
		var out []*container
		for _, c := range svc.containers() {
			if c.current() && c.state == "running" {
				out = append(out, c)
			}
		}
		return out
	})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := s.waitContainerHealthy(ctx, svc, c); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) waitContainerHealthy(ctx context.Context, svc *Service, c *container) error {
	t := time.NewTimer(s.opts.healthTimeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		ok := c.removed != nil || healthyish(c.health) || c.startedOnce()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			return &retryableError{msg: fmt.Sprintf("Timeout waiting for instances of service %s to become healthy (Waiting: healthy [container:%s])", svc.name, c.id)}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func splitNonEmpty(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func cutTrim(s, sep string) (string, string, bool) {
	a, b, ok := strings.Cut(s, sep)
	return strings.TrimSpace(a), strings.TrimSpace(b), ok
}
