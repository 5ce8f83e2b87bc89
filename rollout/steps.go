package rollout

import (
	"context"
	"errors"
	"fmt"
	"github.com/drover-dev/drover/internal/ctxsleep"
	"time"
)

// preflight settles a service before its upgrade: waits out transitional
// states and resolves an upgrade pending from an earlier run per policy.
// It returns false when the service needs no upgrade (or the env failed).
func (er *envRun) preflight(ctx, failCtx context.Context, s *svcRun) bool {
	e, env, key := er.e, er.t.Name, s.target.Service
	for range 4 {
		cur := s.last()
		switch {
		case s.started:
			return true // adopted from the journal: upgrade() waits and verifies
		case cur.Busy():
			e.emit(Event{Env: env, Service: key, Step: "preflight", State: cur.State, Message: "waiting for a transitional state to settle"})
			if _, err := er.waitFor(failCtx, s, "preflight", e.upgradeTimeout, func(x Service) bool { return !x.Busy() }); err != nil {
				er.fail(s, fmt.Errorf("pre-flight: still %s: %w", s.last().State, err))
				return false
			}
		case cur.Pending():
			if !er.resolvePending(failCtx, s) {
				return false
			}
			if now := s.last(); now.State == StateActive && now.Image == s.target.Image.Ref && sidekicksAt(now, s.target) {
				s.outcome = OutcomeUnchanged
				return false
			}
			s.from = s.last().Image
		case cur.State == StateActive || cur.State == StateInactive:
			return er.portsOK(s) && ctx.Err() == nil
		default:
			er.fail(s, fmt.Errorf("pre-flight: cannot upgrade from state %s", cur.State))
			return false
		}
	}
	er.fail(s, fmt.Errorf("pre-flight: state %s did not settle", s.last().State))
	return false
}

// resolvePending applies the pending policy to a service left upgraded (or
// canceled-upgrade) by an earlier run.
func (er *envRun) resolvePending(ctx context.Context, s *svcRun) bool {
	e, env, key, cur := er.e, er.t.Name, s.target.Service, s.last()
	policy := e.onPending
	if policy == PendingFinish && cur.State == StateCanceledUpgrade {
		policy = PendingAbort // a canceled upgrade cannot be finished
	}
	switch policy {
	case PendingFinish:
		er.record(s, "pending-finish", nil)
		if err := er.act(ctx, s, "finishupgrade", er.r.FinishUpgrade, finishedOrFinishing(cur.Image)); err != nil {
			er.fail(s, fmt.Errorf("pre-flight: finish pending upgrade: %w", err))
			return false
		}
	case PendingRollback:
		er.record(s, "pending-rollback", nil)
		if err := er.act(ctx, s, "rollback", er.r.Rollback, rolledBackOrRolling(cur.Image)); err != nil {
			er.fail(s, fmt.Errorf("pre-flight: roll back pending upgrade: %w", err))
			return false
		}
	default:
		prev := cur.PreviousImage
		if prev == "" {
			prev = "its previous image"
		}
		scope := "--env " + env + " --service " + key
		er.fail(s, fmt.Errorf("pre-flight: upgrade pending from an earlier run (state %s, image %s); keep it: `%s`, or go back to %s: `%s`, or rerun with --on-pending finish|rollback",
			cur.State, cur.Image, command(e.command, "finish", scope), prev, command(e.command, "rollback", scope)))
		return false
	}
	if _, err := er.waitFor(ctx, s, "preflight", e.upgradeTimeout, isActive); err != nil {
		er.fail(s, fmt.Errorf("pre-flight: waiting for active: %w", err))
		return false
	}
	return true
}

// upgrade upgrades one service, waits for upgraded and healthy, and soaks.
// With the rollback interrupt policy, an interruption stops the waits at
// once (Rancher rolls back from upgrading too) and is not a failure.
//
// The upgrade call itself, once sent, runs to its answer under rest, not
// under failCtx: cut off mid-way (another service failing), its outcome is
// unknown, and Rancher may apply it after the read that decides whether
// to roll it back, which then sees the service still active and leaves
// the upgrade running (TestLabRefusedUpgradeIsNotOurs caught this).
func (er *envRun) upgrade(ctx, rest, failCtx context.Context, s *svcRun) bool {
	e, env, key := er.e, er.t.Name, s.target.Service
	wctx := failCtx
	if er.onInterrupt == PendingRollback {
		c, cancel := context.WithCancelCause(failCtx)
		defer cancel(nil)
		stop := context.AfterFunc(ctx, func() { cancel(ErrInterrupted) })
		defer stop()
		wctx = c
	}
	interrupted := func() bool { return ctx.Err() != nil && er.onInterrupt == PendingRollback }
	if !s.started {
		er.record(s, "upgrade", nil)
		e.emit(Event{Env: env, Service: key, Step: "upgrade", State: s.last().State, Batches: s.batches, Message: s.from + " -> " + s.target.Image.Ref})
		u := Upgrade{Strategy: er.strategy(s), Image: s.target.Image.Ref, Sidekicks: cloneRefs(s.target.Sidekicks)}
		call := func(_ context.Context, id string) (Service, error) { return er.r.Upgrade(rest, id, u) }
		err := er.act(wctx, s, "upgrade", call, func(x Service) bool {
			return er.ours(s, x) && (x.State == StateUpgrading || x.State == StateUpgraded)
		})
		switch {
		case err == nil:
			s.started = true // accepted: from here on a failure must roll it back
		case errors.Is(err, ErrRejected):
			// Refused (422: another upgrade in progress, or a state that
			// allows none): the service is not ours, and stays untouched.
			er.fail(s, fmt.Errorf("%w; %s; left untouched", err, holder(s.last())))
			return false
		default:
			// Not refused, not confirmed (5xx, interrupted mid-call): it may
			// have taken effect. rollback re-reads and touches it only if
			// it runs this run's launch config.
			s.started = true
			if !interrupted() {
				er.fail(s, err)
			}
			return false
		}
	}
	deadline := time.Now().Add(e.upgradeTimeout)
	x, err := er.waitUpgraded(wctx, s, deadline)
	switch {
	case err != nil && interrupted():
		return false
	case err != nil:
		er.fail(s, err)
		return false
	case x.State != StateUpgraded:
		er.fail(s, fmt.Errorf("upgrade: ended in state %s: %s", x.State, x.TransitioningMessage))
		return false
	}
	er.record(s, "upgraded", nil)
	if err := er.verify(wctx, s, time.Until(deadline)); err != nil {
		if !interrupted() {
			er.fail(s, err)
		}
		return false
	}
	s.verified = true
	er.record(s, "verified", nil)
	return true
}

// waitUpgraded waits until the upgrade rests (upgraded, or another state if
// it left the upgrade) by deadline. transitioning: error is not final in
// Cattle (it retries pulls and allocation and the error clears), so it is
// tolerated for the error grace, counted from the first sight of the error:
// an error seen past it, or still there when it ends, fails the upgrade, as
// does an error once the state has left the upgrade. Cattle's retries flip
// the service between the error and "In Progress", so a cleared error does
// not restart the grace; a later error gets a grace of its own only once
// the upgrade has moved on since the first (more units at the new launch
// config, which a retry that failed again never shows). The failure
// reports Rancher's last transitioningMessage. An upgrade that shows no
// batch progress for the stall timeout fails too (ErrStalled).
func (er *envRun) waitUpgraded(ctx context.Context, s *svcRun, deadline time.Time) (Service, error) {
	e, env, key := er.e, er.t.Name, s.target.Service
	ctx, stall := watchStall(ctx, e.stallTimeout)
	defer stall.stop()
	stall.observe(s.last())
	errGraceEnded := errors.New("error grace ended")
	gctx, endGrace := context.WithCancelCause(ctx)
	defer endGrace(nil)
	var errSince time.Time // the first sight of the error; zero before
	errUnits := -1         // units at the new launch config then (-1: unknown)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	lastErr := ""
	inUpgrade := func(x Service) bool { return x.State == StateUpgrading || x.State == StateUpgraded }
	done := func(x Service) bool {
		stall.observe(x)
		if x.Transitioning != "error" {
			if !errSince.IsZero() && errUnits >= 0 && x.NewUnits > errUnits {
				// The upgrade moved on: that error is over.
				errSince, errUnits = time.Time{}, -1
				if timer != nil {
					timer.Stop()
				}
			}
			return !x.Busy()
		}
		lastErr = x.TransitioningMessage
		if errSince.IsZero() {
			errSince, errUnits = time.Now(), x.NewUnits
			if e.errorGrace == 0 {
				return true
			}
			// Once an earlier grace has ended the wait no longer ends with
			// this timer: a read past this grace fails it (Rancher is
			// re-read at least every 10s).
			timer = time.AfterFunc(e.errorGrace, func() { endGrace(errGraceEnded) })
			e.emit(Event{Env: env, Service: key, Step: "upgrade", State: x.State, Health: x.HealthState,
				Message: fmt.Sprintf("Rancher reports an error (%s); it retries: tolerated for %v", lastErr, e.errorGrace)})
		}
		return !time.Now().Before(errSince.Add(e.errorGrace)) || !inUpgrade(x)
	}
	for {
		wctx := gctx
		if gctx.Err() != nil {
			wctx = ctx // the grace is over: wait on (an error now fails at once)
		}
		x, err := er.waitFor(wctx, s, "upgrade", max(time.Until(deadline), time.Millisecond), done)
		switch {
		case errors.Is(err, ErrStalled):
			return x, err
		case err != nil && errors.Is(err, errGraceEnded):
			// Is the error still there as the grace ends?
			if cur, rerr := er.r.Service(ctx, s.last().ID); rerr == nil {
				er.observe(s, cur, "upgrade")
				x = cur
			}
			if x.Transitioning == "error" {
				lastErr = x.TransitioningMessage
				return x, fmt.Errorf("upgrade: Rancher reports transitioning: error for longer than the %v error grace (state %s; last: %s)",
					e.errorGrace, x.State, lastErr)
			}
			if !x.Busy() {
				return x, nil
			}
		case errors.Is(err, context.DeadlineExceeded):
			msg := upgradeTimeoutCause(x, e.upgradeTimeout, er.t.Strategy.StartFirst)
			if lastErr != "" && x.Transitioning != "error" {
				msg += " (last Rancher error: " + lastErr + ")"
			}
			return x, errors.New(msg)
		case err != nil:
			return x, fmt.Errorf("upgrade: %s: %w", x.State, err)
		case x.Transitioning != "error":
			return x, nil
		case !inUpgrade(x):
			return x, fmt.Errorf("upgrade: left the upgrade: state %s, transitioning: error: %s", x.State, lastErr)
		default:
			return x, fmt.Errorf("upgrade: Rancher reports transitioning: error for longer than the %v error grace (state %s; last: %s)",
				e.errorGrace, x.State, lastErr)
		}
	}
}

// verify waits for healthy (within budget) and then needs it to stay
// healthy for the soak time. Healthy is "started-once" for a service whose
// containers run once ([verifiedHealth]). The soak counts only time observed healthy:
// from one healthy read to the next. A read that fails (Rancher answering
// 503, say) breaks the count, and the time until the next healthy read does
// not count; the soak then runs on, up to twice its length, and fails if it
// has not seen enough health by then. Any read that is not healthy fails it
// at once.
func (er *envRun) verify(ctx context.Context, s *svcRun, budget time.Duration) error {
	e := er.e
	e.emit(Event{Env: er.t.Name, Service: s.target.Service, Step: "verify", State: s.last().State, Health: s.last().HealthState, Message: fmt.Sprintf("soak %v", e.soak)})
	x, err := er.waitFor(ctx, s, "verify", max(budget, time.Millisecond), func(x Service) bool {
		return verifiedHealth(x) || x.State != StateUpgraded
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("verify: health %s, not healthy within the upgrade timeout", x.HealthState)
	} else if err != nil {
		return fmt.Errorf("verify: health %s: %w", x.HealthState, err)
	}
	if x.State != StateUpgraded {
		return fmt.Errorf("verify: state changed to %s", x.State)
	}
	if e.soak <= 0 {
		return nil
	}
	e.emit(Event{Env: er.t.Name, Service: s.target.Service, Step: "verify", State: x.State, Health: x.HealthState, Message: fmt.Sprintf("healthy; soaking for %v", e.soak)})
	start := time.Now()
	deadline := start.Add(2 * e.soak)
	var seen time.Duration // observed healthy
	last := start          // the last healthy read; zero after a failed one
	failed := 0
	var lastErr error
	for seen < e.soak {
		if !time.Now().Before(deadline) {
			msg := fmt.Sprintf("verify: healthy for only %v of the %v soak by its deadline (%v)", seen.Round(time.Millisecond), e.soak, 2*e.soak)
			if lastErr != nil {
				msg += fmt.Sprintf(": health could not be read (%d read(s) failed, the last: %v)", failed, lastErr)
			}
			return errors.New(msg)
		}
		next := time.Now().Add(e.healthInterval)
		if !last.IsZero() {
			if due := last.Add(e.soak - seen); due.Before(next) {
				next = due
			}
		}
		if deadline.Before(next) {
			next = deadline
		}
		if err := ctxsleep.Sleep(ctx, time.Until(next)); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		x, err := er.r.Service(ctx, s.last().ID)
		if err != nil {
			e.log.Warn("health read failed during soak; that time does not count", "env", er.t.Name, "service", s.target.Service, "err", err)
			failed, lastErr, last = failed+1, err, time.Time{}
			continue
		}
		er.observe(s, x, "verify")
		if !verifiedHealth(x) || x.State != StateUpgraded {
			return fmt.Errorf("verify: health %s (state %s) during the %v soak", x.HealthState, x.State, e.soak)
		}
		now := time.Now()
		if !last.IsZero() {
			seen += now.Sub(last)
		}
		last = now
	}
	return nil
}

// rollback puts a service this run upgraded back with Rancher's rollback.
func (er *envRun) rollback(ctx context.Context, s *svcRun) bool {
	if !s.started {
		return false
	}
	e, env, key := er.e, er.t.Name, s.target.Service
	if x, err := er.r.Service(ctx, s.last().ID); err == nil {
		er.observe(s, x, "rollback")
	}
	if cur := s.last(); cur.Busy() && cur.State != StateUpgrading {
		_, _ = er.waitFor(ctx, s, "rollback", e.upgradeTimeout, func(x Service) bool { return !x.Busy() })
	}
	cur := s.last()
	if cur.State == StateActive && !er.ours(s, cur) {
		if s.outcome == "" {
			s.outcome = OutcomeUnchanged // the upgrade never took effect
		}
		return true
	}
	if !er.ours(s, cur) {
		// Another upgrade holds it (its launch config is not this run's):
		// rolling back would undo someone else's work.
		why := fmt.Sprintf("not rolled back: %s, not this run's %s", holder(cur), s.target.Image.Ref)
		s.errText = joinText(s.errText, why)
		er.record(s, "not-ours", errors.New(why))
		e.emit(Event{Env: env, Service: key, Step: "rollback", State: cur.State, Message: why})
		return false
	}
	er.record(s, "rollback", nil)
	e.emit(Event{Env: env, Service: key, Step: "rollback", State: cur.State})
	err := er.act(ctx, s, "rollback", er.r.Rollback, rolledBackOrRolling(s.target.Image.Ref))
	if err == nil {
		_, err = er.waitFor(ctx, s, "rollback", e.upgradeTimeout, isActive)
	}
	if err != nil {
		er.mu.Lock()
		er.needsHuman = true
		if er.failCause == "" {
			er.failSvc, er.failCause = key, "rollback failed: "+err.Error()
		} else if er.restCause == "" {
			er.restCause = "rollback failed: " + err.Error()
		}
		er.mu.Unlock()
		s.errText = joinText(s.errText, "rollback failed: "+err.Error())
		er.record(s, "failed", fmt.Errorf("rollback: %w", err))
		return false
	}
	s.outcome = OutcomeRolledBack
	er.record(s, "rolled-back", nil)
	return true
}

// finishOne finishes a verified upgrade.
func (er *envRun) finishOne(ctx context.Context, s *svcRun) bool {
	if !s.verified {
		return false
	}
	e, env, key := er.e, er.t.Name, s.target.Service
	er.record(s, "finish", nil)
	e.emit(Event{Env: env, Service: key, Step: "finish", State: s.last().State})
	err := er.act(ctx, s, "finishupgrade", er.r.FinishUpgrade, finishedOrFinishing(s.target.Image.Ref))
	if err == nil {
		_, err = er.waitFor(ctx, s, "finish", e.upgradeTimeout, isActive)
	}
	if err != nil {
		er.mu.Lock()
		er.needsHuman = true
		if er.failCause == "" {
			er.failSvc, er.failCause = key, "finish failed: "+err.Error()
		} else if er.restCause == "" {
			er.restCause = "finish failed: " + err.Error()
		}
		er.mu.Unlock()
		s.errText = "finish failed: " + err.Error()
		er.record(s, "failed", fmt.Errorf("finish: %w", err))
		return false
	}
	s.outcome = OutcomeFinished
	er.record(s, "finished", nil)
	e.emit(Event{Env: env, Service: key, Step: "done", State: s.last().State, Health: s.last().HealthState})
	return true
}

// ours reports whether x runs the launch config this run's upgrade of s
// set: its image (and named sidekicks' images) are the target's. Only then
// may a failure roll it back.
func (er *envRun) ours(s *svcRun, x Service) bool {
	return x.Image == s.target.Image.Ref && sidekicksAt(x, s.target)
}

// holder says who holds a service an upgrade was refused on, from its
// last observed state.
func holder(x Service) string {
	what := fmt.Sprintf("service is %s at %s", x.State, x.Image)
	switch {
	case x.State == StateUpgrading || x.State == StateUpgraded:
		what += " (another upgrade is in progress"
		if x.PreviousImage != "" {
			what += ", from " + x.PreviousImage
		}
		what += ")"
	case x.State == StateCanceledUpgrade:
		what += " (another upgrade was canceled and waits for rollback or continue)"
	case x.Busy():
		what += " (another action is in progress)"
	}
	if x.Transitioning == "error" && x.TransitioningMessage != "" {
		what += "; Rancher: " + x.TransitioningMessage
	}
	return what
}

func isActive(x Service) bool { return x.State == StateActive && !x.Busy() }

func finishedOrFinishing(image string) func(Service) bool {
	return func(x Service) bool {
		return x.State == "finishing-upgrade" || (x.State == StateActive && x.Image == image)
	}
}

func rolledBackOrRolling(newImage string) func(Service) bool {
	return func(x Service) bool {
		return x.State == "rolling-back" || (x.State == StateActive && x.Image != newImage)
	}
}

func joinText(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// act performs a write action. After an error it re-reads the service: if
// the action took effect anyway it is done; a rejection (4xx) is never
// retried; anything else is retried a few times with backoff. A rejection
// of the first attempt means nothing of ours took effect, whatever the
// service looks like (another operator's action may look like ours); only
// after an unconfirmed earlier attempt can a refused retry have been
// preceded by our own effect.
func (er *envRun) act(ctx context.Context, s *svcRun, name string, call func(context.Context, string) (Service, error), tookEffect func(Service) bool) error {
	id := s.last().ID
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("%s %s in %s: not sent: %w", name, s.target.Service, er.t.Name, err)
	}
	for attempt := 1; ; attempt++ {
		x, err := call(ctx, id)
		if err == nil {
			er.observe(s, x, name)
			return nil
		}
		if cur, rerr := er.r.Service(ctx, id); rerr == nil {
			er.observe(s, cur, name)
			if tookEffect(cur) && (attempt > 1 || !errors.Is(err, ErrRejected)) {
				return nil
			}
		}
		if errors.Is(err, ErrRejected) || attempt >= 4 || ctx.Err() != nil {
			return fmt.Errorf("%s %s in %s (state %s): %w", name, s.target.Service, er.t.Name, s.last().State, err)
		}
		er.e.log.Warn("rancher action failed; retrying", "env", er.t.Name, "service", s.target.Service, "action", name, "attempt", attempt, "err", err)
		if ctxsleep.Sleep(ctx, backoff(attempt)) != nil {
			return fmt.Errorf("%s %s in %s: %w", name, s.target.Service, er.t.Name, err)
		}
	}
}

// waitFor waits (up to timeout) for done, riding out transient errors of
// the Rancher wait (a 5xx, a dropped websocket) by re-reading and waiting
// again. It returns the last state seen.
func (er *envRun) waitFor(ctx context.Context, s *svcRun, step string, timeout time.Duration, done func(Service) bool) (Service, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id := s.last().ID
	for attempt := 1; ; attempt++ {
		x, err := er.r.Wait(ctx, id, func(x Service) bool {
			er.observe(s, x, step)
			return done(x)
		})
		if err == nil {
			er.observe(s, x, step)
			return x, nil
		}
		if ctx.Err() != nil {
			return s.last(), context.Cause(ctx)
		}
		er.e.log.Warn("rancher wait failed; re-reading", "env", er.t.Name, "service", s.target.Service, "attempt", attempt, "err", err)
		if ctxsleep.Sleep(ctx, backoff(min(attempt, 4))) != nil {
			return s.last(), context.Cause(ctx)
		}
		if cur, err := er.r.Service(ctx, id); err == nil {
			er.observe(s, cur, step)
			if done(cur) {
				return cur, nil
			}
		}
	}
}

// upgradeTimeoutCause says why an upgrade that outlived its deadline is a
// failure, in the words an operator needs: what Rancher reports, and that
// with startFirst a "healthy" service means the old containers still serve
// while the new ones never turned healthy (Rancher retries that health
// wait forever, leaving the service upgrading).
func upgradeTimeoutCause(x Service, timeout time.Duration, startFirst bool) string {
	msg := fmt.Sprintf("upgrade: still %s after the %v upgrade timeout", x.State, timeout)
	if m := x.TransitioningMessage; m != "" && m != "In Progress" {
		msg += " (Rancher: " + m + ")"
	}
	msg += "; service health " + x.HealthState
	if startFirst && x.State == StateUpgrading && x.HealthState == "healthy" {
		msg += ": the old containers still serve, the new ones never turned healthy"
	}
	return msg
}
