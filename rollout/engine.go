package rollout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Connector returns the Rancher API of one environment.
type Connector func(ctx context.Context, env string) (Rancher, error)

// Engine runs plans, rollouts, finishes and rollbacks.
type Engine struct {
	connect  Connector
	presence Presence
	puller   Puller
	log      *slog.Logger
	journal  *Journal
	resume   *resumeState
	abort    <-chan struct{}

	progMu   sync.Mutex
	progress func(Event)

	gateTimeout, gateInterval    time.Duration
	upgradeTimeout, soak         time.Duration
	stallTimeout                 time.Duration
	errorGrace                   time.Duration
	healthInterval, drainTimeout time.Duration
	onPending, onInterrupt       PendingPolicy
	finish                       FinishMode
	envConcurrency               int
	// command starts the commands reports print ("rollout", or
	// "rollout -c FILE"): WithCommand.
	command string
}

// New returns an engine over connect (one Rancher per environment) and
// presence (the gate's check).
func New(connect Connector, presence Presence, opts ...Option) (*Engine, error) {
	if connect == nil || presence == nil {
		return nil, errors.New("rollout.New: connector and presence are required")
	}
	e := &Engine{
		connect: connect, presence: presence,
		log:         slog.New(slog.DiscardHandler),
		gateTimeout: DefaultGateTimeout, gateInterval: DefaultGateInterval,
		upgradeTimeout: DefaultUpgradeTimeout, soak: DefaultSoak, errorGrace: DefaultErrorGrace,
		stallTimeout:   DefaultStallTimeout,
		healthInterval: DefaultHealthInterval, drainTimeout: DefaultDrainTimeout,
		onPending: DefaultOnPending, onInterrupt: DefaultOnInterrupt, finish: DefaultFinish,
		envConcurrency: DefaultEnvConcurrency, command: "rollout",
	}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Event is one observation or step, for a live table or log lines.
type Event struct {
	Time    time.Time `json:"time"`
	Env     string    `json:"env"`
	Service string    `json:"service,omitempty"`
	Step    string    `json:"step"` // gate, preflight, upgrade, verify, finish, rollback, done, failed, skipped; ended (the environment's, State its EnvStatus)
	State   string    `json:"state,omitempty"`
	Health  string    `json:"health,omitempty"`
	Batch   int       `json:"batch,omitempty"` // 0 when unknown
	Batches int       `json:"batches,omitempty"`
	Message string    `json:"message,omitempty"`
}

func (e *Engine) emit(ev Event) {
	if e.progress == nil {
		return
	}
	ev.Time = time.Now()
	e.progMu.Lock()
	defer e.progMu.Unlock()
	e.progress(ev)
}

func (e *Engine) record(en Entry) {
	if e.journal == nil {
		return
	}
	if err := e.journal.Record(en); err != nil {
		e.log.Warn("journal write failed", "err", err)
	}
}

// restContext is the context in-flight work runs under: it ignores the
// first cancellation of ctx, ends drainTimeout after it, and ends at once
// when abort is closed. stop releases it.
func (e *Engine) restContext(ctx context.Context) (rest context.Context, stop func()) {
	rest, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var timer *time.Timer
	stopAfter := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(e.drainTimeout, func() {
			cancel(fmt.Errorf("interrupted: in-flight services not at rest after the %v drain timeout", e.drainTimeout))
		})
	})
	done := make(chan struct{})
	if e.abort != nil {
		go func() {
			select {
			case <-e.abort:
				cancel(errors.New("aborted (second interrupt)"))
			case <-done:
			}
		}()
	}
	return rest, func() {
		close(done)
		stopAfter()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel(context.Canceled)
	}
}

// Apply rolls targets out: waves in order, environments of a wave in
// parallel (bounded), each environment gated, pre-flighted, upgraded,
// verified and finished. A failed environment is rolled back and stops
// later waves. Cancelling ctx starts nothing new and brings in-flight
// services to rest (see WithOnInterrupt, WithDrainTimeout, WithAbort).
//
// The report is always returned; the error joins one *Failure per failed
// environment (or says the run was interrupted).
func (e *Engine) Apply(ctx context.Context, targets []EnvTarget) (*Report, error) {
	return e.apply(ctx, targets, e.onInterrupt, false)
}

// apply is Apply with the first Ctrl-C's policy for in-flight services.
func (e *Engine) apply(ctx context.Context, targets []EnvTarget, onInterrupt PendingPolicy, back bool) (*Report, error) {
	rest, stop := e.restContext(ctx)
	defer stop()
	rep := &Report{Started: time.Now()}
	run := rep.Started.UTC().Format(time.RFC3339Nano)
	e.record(Entry{Run: run, Action: "run-start"})
	stopped := ""
	for _, wave := range groupWaves(targets) {
		if stopped == "" && ctx.Err() != nil {
			stopped = "not started: interrupted"
		}
		if stopped != "" {
			for _, t := range wave {
				rep.Envs = append(rep.Envs, notStarted(t, stopped))
			}
			continue
		}
		envReps := make([]EnvReport, len(wave))
		var g errgroup.Group
		g.SetLimit(e.envConcurrency)
		for i, t := range wave {
			g.Go(func() error {
				if ctx.Err() != nil {
					envReps[i] = notStarted(t, "not started: interrupted")
					return nil
				}
				er := &envRun{e: e, t: t, run: run, onInterrupt: onInterrupt, back: back, started: time.Now()}
				envReps[i] = er.apply(ctx, rest)
				// The environment's outcome, for notifications (Step "ended").
				r := envReps[i]
				e.emit(Event{Env: t.Name, Step: "ended", State: string(r.Status), Message: strings.TrimPrefix(r.Service+": "+r.Cause, ": ")})
				return nil
			})
		}
		_ = g.Wait()
		rep.Envs = append(rep.Envs, envReps...)
		for _, r := range envReps {
			if r.Status != EnvDone {
				stopped = fmt.Sprintf("not started: wave %d did not complete (%s %s)", r.Wave, r.Env, r.Status)
				break
			}
		}
	}
	rep.Interrupted = ctx.Err() != nil
	rep.Ended = time.Now()
	e.record(Entry{Run: run, Action: "run-end", Error: errString(rep.Err())})
	return rep, rep.Err()
}

func groupWaves(targets []EnvTarget) [][]EnvTarget {
	targets = slices.Clone(targets)
	slices.SortStableFunc(targets, func(a, b EnvTarget) int { return cmp.Compare(a.Wave, b.Wave) })
	var out [][]EnvTarget
	for _, t := range targets {
		if n := len(out); n > 0 && out[n-1][0].Wave == t.Wave {
			out[n-1] = append(out[n-1], t)
			continue
		}
		out = append(out, []EnvTarget{t})
	}
	return out
}

func notStarted(t EnvTarget, why string) EnvReport {
	r := EnvReport{Env: t.Name, Wave: t.Wave, Status: EnvNotStarted, Cause: why}
	for _, s := range t.Services {
		r.Services = append(r.Services, ServiceReport{Service: s.Service, To: s.Image.Ref, Outcome: OutcomeNotStarted})
	}
	return r
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
