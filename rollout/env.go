package rollout

import (
	"context"
	"errors"
	"fmt"
	"github.com/drover-dev/drover/internal/ctxsleep"
	"strings"
	"sync"
	"time"
)

// envRun is one environment's rollout.
type envRun struct {
	e *Engine
	// started is when work on the environment began (EnvReport.Seconds).
	started time.Time
	t       EnvTarget
	run     string
	r       Rancher
	// onInterrupt is what the first Ctrl-C does to in-flight services:
	// the engine's policy, except for an upgrade back (Rollback), which
	// is always finished: rolling it back would redeploy the bad release.
	onInterrupt PendingPolicy
	// back marks an upgrade back (Rollback): its gate checks the previous
	// images once and does not wait for them (see Engine.gate).
	back bool

	svcs  []*svcRun
	hosts []Host // as the gate read them

	mu         sync.Mutex
	failSvc    string
	failCause  string
	failErr    error  // the first failure (it stops the other services' waits)
	restCause  string // why the first service could not be put back
	needsHuman bool
	cancelFail context.CancelCauseFunc
}

// svcRun is one service's progress within an envRun.
type svcRun struct {
	target  ServiceTarget
	batches int

	mu  sync.Mutex
	cur Service // last observed

	from     string // image before this run touched it
	outcome  string
	errText  string
	started  bool // an upgrade we own is (or may be) pending: finish or roll back
	verified bool
	note     string // why its strategy differs from the environment's
}

func (s *svcRun) last() Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// observe stores x and emits an event when something visible changed.
func (er *envRun) observe(s *svcRun, x Service, step string) {
	s.mu.Lock()
	prev := s.cur
	if x.Stack == "" {
		x.Stack, x.Name = prev.Stack, prev.Name
	}
	s.cur = x
	s.mu.Unlock()
	if prev.State == x.State && prev.HealthState == x.HealthState && prev.NewUnits == x.NewUnits {
		return
	}
	ev := Event{Env: er.t.Name, Service: s.target.Service, Step: step, State: x.State, Health: x.HealthState, Batches: s.batches}
	switch {
	case x.State == StateUpgraded && s.batches > 0:
		// Rancher reaches upgraded only after the last batch, whether or
		// not the last container's event has been counted yet.
		ev.Batch = s.batches
	case x.NewUnits >= 0 && s.batches > 0:
		// The batch under way: the one the next unit to upgrade is in.
		ev.Batch = min(batches(x.NewUnits+1, er.t.Strategy.BatchSize), s.batches)
	}
	if x.Transitioning == "error" {
		ev.Message = x.TransitioningMessage
	}
	er.e.emit(ev)
}

func (er *envRun) record(s *svcRun, action string, err error) {
	en := Entry{Run: er.run, Env: er.t.Name, Action: action, Error: errString(err)}
	if s != nil {
		cur := s.last()
		en.Service, en.From, en.To, en.State = s.target.Service, s.from, s.target.Image.Ref, cur.State
	}
	er.e.record(en)
}

// fail records the environment's first failure and stops its other waits.
func (er *envRun) fail(s *svcRun, err error) {
	er.mu.Lock()
	defer er.mu.Unlock()
	name := ""
	if s != nil {
		name = s.target.Service
		s.errText = err.Error()
		s.outcome = OutcomeStopped
		if er.failCause == "" {
			s.outcome = OutcomeFailed
		} else if er.failErr != nil && errors.Is(err, er.failErr) {
			// Its wait was stopped by the first failure, not its own.
			err = fmt.Errorf("stopped: %s failed first", er.failSvc)
			s.errText = err.Error()
		}
	}
	if er.failCause == "" {
		er.failSvc, er.failCause, er.failErr = name, err.Error(), err
		if er.cancelFail != nil {
			er.cancelFail(err)
		}
	}
	er.record(s, "failed", err)
	er.e.emit(Event{Env: er.t.Name, Service: name, Step: "failed", Message: err.Error()})
}

func (er *envRun) failed() bool {
	er.mu.Lock()
	defer er.mu.Unlock()
	return er.failCause != ""
}

// apply runs gate, pre-flight, upgrade, verify and finish (or rollback).
// ctx ending means "start nothing new"; rest is what in-flight work runs
// under (see Engine.restContext).
func (er *envRun) apply(ctx, rest context.Context) EnvReport {
	rep := EnvReport{Env: er.t.Name, Wave: er.t.Wave}
	todo, ok := er.load(rest)
	if !ok {
		return er.report(rep, ctx)
	}
	var fresh []*svcRun
	for _, s := range todo {
		if !s.started {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) > 0 {
		er.e.emit(Event{Env: er.t.Name, Step: "gate", Message: "checking images on hosts"})
		hosts, err := retryRead(rest, er, "list hosts", er.r.Hosts)
		if err != nil {
			er.fail(nil, err)
			return er.report(rep, ctx)
		}
		er.hosts = hosts
		st := er.e.gate(ctx, er.t.Name, hosts, fresh, er.back)
		rep.Gate = &st
		if !st.Open {
			if ctx.Err() != nil {
				return er.report(rep, ctx)
			}
			er.mu.Lock()
			er.failCause = gateCause(st, er.back)
			er.mu.Unlock()
			er.record(nil, "gated", errors.New(er.failCause))
			er.e.emit(Event{Env: er.t.Name, Step: "gated", Message: er.failCause})
			rep.Status = EnvGated
			return er.report(rep, ctx)
		}
		er.record(nil, "gate-open", nil)
	}
	if ctx.Err() != nil {
		return er.report(rep, ctx)
	}
	failCtx, cancel := context.WithCancelCause(rest)
	defer cancel(nil)
	er.mu.Lock()
	er.cancelFail = cancel
	er.mu.Unlock()

	todo = er.forEach(ctx, todo, func(s *svcRun) bool { return er.preflight(ctx, failCtx, s) })
	if !er.failed() {
		er.forEach(ctx, todo, func(s *svcRun) bool { return er.upgrade(ctx, rest, failCtx, s) })
	}
	switch {
	case er.failed() || (ctx.Err() != nil && er.onInterrupt == PendingRollback):
		er.forAll(er.svcs, func(s *svcRun) bool { return er.rollback(rest, s) })
	case er.e.finish == FinishAuto:
		er.forAll(er.svcs, func(s *svcRun) bool { return er.finishOne(rest, s) })
	default:
		for _, s := range er.svcs {
			if s.verified {
				s.outcome = OutcomeUpgraded
			}
		}
	}
	return er.report(rep, ctx)
}

// forEach runs f on each service, at most t.Concurrency at a time, starting
// none once ctx has ended or the environment failed. It
// returns the services for which f returned true.
func (er *envRun) forEach(ctx context.Context, svcs []*svcRun, f func(*svcRun) bool) []*svcRun {
	return er.each(func() bool { return ctx.Err() != nil || er.failed() }, svcs, f)
}

// forAll is forEach for bringing services to rest: it starts f for every
// service, whatever has failed or been interrupted.
func (er *envRun) forAll(svcs []*svcRun, f func(*svcRun) bool) []*svcRun {
	return er.each(func() bool { return false }, svcs, f)
}

func (er *envRun) each(stop func() bool, svcs []*svcRun, f func(*svcRun) bool) []*svcRun {
	sem := make(chan struct{}, max(1, er.t.Concurrency))
	keep := make([]bool, len(svcs))
	var wg sync.WaitGroup
	for i, s := range svcs {
		if stop() {
			break
		}
		sem <- struct{}{}
		if stop() {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			keep[i] = f(s)
		})
	}
	wg.Wait()
	var out []*svcRun
	for i, s := range svcs {
		if keep[i] {
			out = append(out, s)
		}
	}
	return out
}

// load connects, reads the services and sorts them into done and to-do.
func (er *envRun) load(rest context.Context) ([]*svcRun, bool) {
	e, t := er.e, er.t
	byKey, err := er.services(rest)
	if err != nil {
		er.fail(nil, err)
		return nil, false
	}
	var todo []*svcRun
	var missing []string
	for _, st := range t.Services {
		s := &svcRun{target: st}
		er.svcs = append(er.svcs, s)
		cur, ok := byKey[st.Service]
		if !ok {
			missing = append(missing, st.Service)
			s.outcome = OutcomeNotStarted
			continue
		}
		s.cur, s.from, s.batches = cur, cur.Image, batches(cur.Scale, t.Strategy.BatchSize)
		s.cur.NewUnits = -1
		atTarget := cur.Image == st.Image.Ref && sidekicksAt(cur, st)
		switch {
		case atTarget && cur.State == StateActive && e.resume.finishedTo(t.Name, st.Service) == st.Image.Ref:
			s.outcome = OutcomeSkipped
			er.record(s, "skip", nil)
			e.emit(Event{Env: t.Name, Service: st.Service, Step: "skipped", State: cur.State, Message: "finished by an earlier run"})
		case atTarget && cur.State == StateActive:
			s.outcome = OutcomeUnchanged
			e.emit(Event{Env: t.Name, Service: st.Service, Step: "skipped", State: cur.State, Message: "already at " + st.Image.Ref})
		case atTarget && (cur.Pending() || cur.Busy()) && e.resume.startedTo(t.Name, st.Service) == st.Image.Ref:
			s.started = true // ours, from the journal: verify and finish it
			s.from = cur.PreviousImage
			todo = append(todo, s)
		default:
			todo = append(todo, s)
		}
	}
	if len(missing) > 0 {
		er.fail(nil, fmt.Errorf("%w: service(s) %s not in environment %s", ErrNotFound, strings.Join(missing, ", "), t.Name))
		return nil, false
	}
	return todo, true
}

// services connects (once) and lists the environment's services by key.
func (er *envRun) services(ctx context.Context) (map[string]Service, error) {
	if er.r == nil {
		// Connecting reads too (the project lookup): a 5xx there is as
		// transient as anywhere else and is retried; a refusal is not.
		r, err := retryRead(ctx, er, "connect to rancher", func(ctx context.Context) (Rancher, error) {
			return er.e.connect(ctx, er.t.Name)
		})
		if err != nil {
			return nil, err
		}
		er.r = r
	}
	all, err := retryRead(ctx, er, "list services", er.r.Services)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]Service, len(all))
	for _, s := range all {
		byKey[s.Key()] = s
	}
	return byKey, nil
}

func sidekicksAt(cur Service, st ServiceTarget) bool {
	for name, img := range st.Sidekicks {
		if cur.Sidekicks[name] != img.Ref {
			return false
		}
	}
	return true
}

func gateCause(st GateStatus, back bool) string {
	var b strings.Builder
	if back {
		fmt.Fprintf(&b, "gate closed: the previous image is not on every host (a rollback checks once, it does not wait): %d host/image pair(s) missing", len(st.Missing))
	} else {
		fmt.Fprintf(&b, "gate closed after %s: %d host/image pair(s) missing", st.Waited, len(st.Missing))
	}
	if st.noPlatform() {
		b.WriteString(", not waiting: a host's platform has no image in the lock, which no wait or pull changes")
	}
	if st.refused() {
		b.WriteString(", not waiting: Rancher refused access to a host (the API key's role, or its relay's configuration), which no wait or pull changes")
	}
	for i, m := range st.Missing {
		if i == 5 {
			fmt.Fprintf(&b, ", ... (%d more)", len(st.Missing)-i)
			break
		}
		sep := ", "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s: %s", sep, m.Host, m.Image)
		if m.Error != "" {
			fmt.Fprintf(&b, " [%s]", m.Error)
		}
	}
	if len(st.Missing) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

// report builds the environment's report from what was last observed.
func (er *envRun) report(rep EnvReport, ctx context.Context) EnvReport {
	er.mu.Lock()
	defer er.mu.Unlock()
	interrupted := false
	for _, s := range er.svcs {
		cur := s.last()
		sr := ServiceReport{Service: s.target.Service, ID: cur.ID, From: s.from, To: s.target.Image.Ref,
			State: cur.State, Health: cur.HealthState, Outcome: s.outcome, Error: s.errText, Note: s.note}
		if sr.Outcome == "" && s.started {
			sr.Outcome = OutcomeStopped
		} else if sr.Outcome == "" {
			sr.Outcome = OutcomeNotStarted
		}
		if sr.Outcome == OutcomeNotStarted || sr.Outcome == OutcomeStopped || (sr.Outcome == OutcomeRolledBack && er.failCause == "") {
			interrupted = true
		}
		if sr.Outcome == OutcomeUpgraded {
			sr.Command = command(er.e.command, "finish", "--env "+er.t.Name+" --service "+sr.Service)
		} else {
			sr.Command = commandFor(er.e.command, er.t.Name, sr.Service, sr.State)
		}
		rep.Services = append(rep.Services, sr)
	}
	rep.Service, rep.Cause = er.failSvc, er.failCause
	if !er.started.IsZero() {
		rep.Seconds = time.Since(er.started).Seconds()
	}
	if er.needsHuman && er.restCause != "" && er.restCause != er.failCause {
		rep.Cause += "; then " + er.restCause
	}
	switch {
	case rep.Status == EnvGated:
	case er.needsHuman:
		rep.Status = EnvNeedsHuman
	case er.failCause != "":
		rep.Status = EnvFailed
	case ctx.Err() != nil && interrupted:
		rep.Status = EnvInterrupted
		rep.Cause = "interrupted"
	default:
		rep.Status = EnvDone
	}
	return rep
}

// retryRead retries a read a few times on errors other than rejections.
func retryRead[T any](ctx context.Context, er *envRun, what string, f func(context.Context) (T, error)) (T, error) {
	var zero T
	for attempt := 1; ; attempt++ {
		v, err := f(ctx)
		if err == nil {
			return v, nil
		}
		if errors.Is(err, ErrRejected) || attempt >= 4 || ctx.Err() != nil {
			return zero, fmt.Errorf("%s in %s: %w", what, er.t.Name, err)
		}
		er.e.log.Warn("rancher read failed; retrying", "env", er.t.Name, "what", what, "attempt", attempt, "err", err)
		if ctxsleep.Sleep(ctx, backoff(attempt)) != nil {
			return zero, fmt.Errorf("%s in %s: %w", what, er.t.Name, err)
		}
	}
}

func backoff(attempt int) time.Duration {
	return min(time.Duration(1<<(attempt-1))*500*time.Millisecond, 8*time.Second)
}

func cloneRefs(m map[string]Image) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.Ref
	}
	return out
}
