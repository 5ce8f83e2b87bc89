package ranchersim

import (
	"context"
	"sort"
	"sync"
	"time"
)

// strategy is the parsed in-service upgrade (or rolling restart) strategy.
type strategy struct {
	batchSize  int
	interval   time.Duration
	startFirst bool
}

// unitsNeedingWork returns up to n deployment units (1..scale) whose current configs
// are not all running, or that still run an outdated container; with cleanup, a unit
// holding any outdated container (stopped ones included) needs work too.
// Called with s.mu held.
func (svc *Service) unitsNeedingWork(n int, cleanup bool) []int {
	var out []int
	names := svc.configNames()
	for u := 1; u <= svc.scale && len(out) < n; u++ {
		need := false
		for _, name := range names {
			running := false
			for _, c := range svc.containers() {
				if c.unit == u && c.lc == name && c.current() && (c.state == "running" || c.startedOnce()) {
					running = true
				}
			}
			need = need || !running
		}
		for _, c := range svc.containers() {
			if c.unit == u && !c.current() && (c.state == "running" || cleanup) {
				need = true
			}
		}
		if need {
			out = append(out, u)
		}
	}
	return out
}

// outdated returns unit u's containers that are not of the current version (all units
// when u is 0). Called with s.mu held.
func (svc *Service) outdated(u int) []*container {
	var out []*container
	for _, c := range svc.containers() {
		if (u == 0 || c.unit == u) && !c.current() {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) snapshot(ctx context.Context, f func() []*container) ([]*container, error) {
	var cs []*container
	if !s.locked(ctx, func() { cs = f() }) {
		return nil, ctx.Err()
	}
	return cs, nil
}

// retire stops (or removes) the outdated containers of the given units.
func (s *Server) retire(ctx context.Context, svc *Service, units []int, remove bool) error {
	for _, u := range units {
		cs, err := s.snapshot(ctx, func() []*container { return svc.outdated(u) })
		if err != nil {
			return err
		}
		for _, c := range cs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if remove {
				err = s.removeContainer(c)
			} else {
				err = s.stopContainer(c)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// startUnits starts the units of a batch concurrently, as Cattle's reconcile creates a
// batch's instances in parallel (so pulls on different hosts overlap).
func (s *Server) startUnits(ctx context.Context, svc *Service, units []int) error {
	errs := make([]error, len(units))
	var wg sync.WaitGroup
	for i, u := range units {
		wg.Go(func() { errs[i] = s.startUnit(ctx, svc, u) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the first failed unit names the process error, as Cattle shows one
		}
	}
	return nil
}

// runUpgrade is Cattle's in-service upgrade loop: wait for health, take a batch of
// deployment units, replace them (start new first, or stop old first), sleep the
// interval between batches. Old containers are stopped, not removed.
func (s *Server) runUpgrade(svc *Service) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			if err := s.waitHealthy(ctx, svc); err != nil {
				return err
			}
			var batch []int
			var st strategy
			if !s.locked(ctx, func() {
				st = svc.strategy
				batch = svc.unitsNeedingWork(st.batchSize, false)
				if len(batch) == 0 {
					s.finishLocked(svc, "upgraded")
				}
			}) {
				return ctx.Err()
			}
			if len(batch) == 0 {
				return nil
			}
			if st.startFirst {
				if err := s.startUnits(ctx, svc, batch); err != nil {
					return err
				}
				if err := s.waitHealthy(ctx, svc); err != nil {
					return err
				}
				if err := s.retire(ctx, svc, batch, false); err != nil {
					return err
				}
			} else {
				if err := s.retire(ctx, svc, batch, false); err != nil {
					return err
				}
				if err := s.startUnits(ctx, svc, batch); err != nil {
					return err
				}
			}
			if err := s.interval(ctx, svc, st.interval, false); err != nil {
				return err
			}
		}
	}
}

// interval sleeps d if more units need work.
func (s *Server) interval(ctx context.Context, svc *Service, d time.Duration, cleanup bool) error {
	more := false
	if !s.locked(ctx, func() { more = len(svc.unitsNeedingWork(1, cleanup)) > 0 }) {
		return ctx.Err()
	}
	if more && !sleep(ctx, d) {
		return ctx.Err()
	}
	return nil
}

// runRollback restarts the old (now current again) containers and removes the new
// ones, batch by batch, without waiting for health; it ends active.
func (s *Server) runRollback(svc *Service) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			var batch []int
			var st strategy
			if !s.locked(ctx, func() {
				st = svc.strategy
				batch = svc.unitsNeedingWork(st.batchSize, true)
				if len(batch) == 0 {
					s.finishLocked(svc, "active")
				}
			}) {
				return ctx.Err()
			}
			if len(batch) == 0 {
				return nil
			}
			if st.startFirst {
				if err := s.startUnits(ctx, svc, batch); err != nil {
					return err
				}
				if err := s.retire(ctx, svc, batch, true); err != nil {
					return err
				}
			} else {
				if err := s.retire(ctx, svc, batch, true); err != nil {
					return err
				}
				if err := s.startUnits(ctx, svc, batch); err != nil {
					return err
				}
			}
			if err := s.interval(ctx, svc, st.interval, true); err != nil {
				return err
			}
		}
	}
}

// runFinish removes the containers an upgrade left stopped; it ends active.
func (s *Server) runFinish(svc *Service) func(context.Context) error {
	return func(ctx context.Context) error {
		cs, err := s.snapshot(ctx, func() []*container { return svc.outdated(0) })
		if err != nil {
			return err
		}
		for _, c := range cs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := s.removeContainer(c); err != nil {
				return err
			}
		}
		s.locked(ctx, func() { s.finishLocked(svc, "active") })
		return nil
	}
}

// runActivate makes units 1..scale run and removes units beyond scale; it ends in end.
func (s *Server) runActivate(svc *Service, end string) func(context.Context) error {
	return func(ctx context.Context) error {
		var scale int
		if !s.locked(ctx, func() { scale = svc.scale }) {
			return ctx.Err()
		}
		if end == "active" {
			units := make([]int, 0, scale)
			for u := 1; u <= scale; u++ {
				units = append(units, u)
			}
			if err := s.startUnits(ctx, svc, units); err != nil {
				return err
			}
		}
		extra, err := s.snapshot(ctx, func() []*container {
			var out []*container
			for _, c := range svc.containers() {
				if c.unit > svc.scale {
					out = append(out, c)
				}
			}
			return out
		})
		if err != nil {
			return err
		}
		for _, c := range extra {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := s.removeContainer(c); err != nil {
				return err
			}
		}
		s.locked(ctx, func() { s.finishLocked(svc, end) })
		return nil
	}
}

// runStopAll stops (or removes) every container of the service; it ends in end.
func (s *Server) runStopAll(svc *Service, remove bool, end string) func(context.Context) error {
	return func(ctx context.Context) error {
		cs, err := s.snapshot(ctx, svc.containers)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if remove {
				err = s.removeContainer(c)
			} else {
				err = s.stopContainer(c)
			}
			if err != nil {
				return err
			}
		}
		s.locked(ctx, func() {
			if remove {
				now := s.now()
				svc.removed = &now
			}
			s.finishLocked(svc, end)
		})
		return nil
	}
}

// runRestart stops and starts the running containers, batch by batch (by unit).
func (s *Server) runRestart(svc *Service, st strategy) func(context.Context) error {
	return func(ctx context.Context) error {
		cs, err := s.snapshot(ctx, func() []*container {
			var out []*container
			for _, c := range svc.containers() {
				if c.state == "running" {
					out = append(out, c)
				}
			}
			return out
		})
		if err != nil {
			return err
		}
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].unit < cs[j].unit })
		for i := 0; i < len(cs); i += st.batchSize {
			if i > 0 && !sleep(ctx, st.interval) {
				return ctx.Err()
			}
			for _, c := range cs[i:min(i+st.batchSize, len(cs))] {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err := s.stopContainer(c); err != nil {
					return err
				}
				if err := s.startContainer(c); err != nil {
					return err
				}
			}
		}
		s.locked(ctx, func() { s.finishLocked(svc, "active") })
		return nil
	}
}

// runSetState only changes state (cancelupgrade: the superseded loop has stopped).
func (s *Server) runSetState(svc *Service, end string) func(context.Context) error {
	return func(ctx context.Context) error {
		s.locked(ctx, func() { s.finishLocked(svc, end) })
		return nil
	}
}
