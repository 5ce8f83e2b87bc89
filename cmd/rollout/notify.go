package main

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/notify"
	"github.com/drover-dev/drover/rollout"
)

// runNotifier turns one apply or rollback into notifications: run-started;
// from the engine's events, wave-started (an environment of a new wave is
// first heard from) and env-done/env-failed (its "ended" event); from the
// report, needs-human and run-finished. Rollback works on all its
// environments at once: its env-done/env-failed come from the report.
type runNotifier struct {
	env  *cli.Env
	nf   *cli.NotifyFlags
	n    *notify.Notifier
	base notify.Event
	live bool // env events from the engine (apply), else from the report

	waveOf   map[string]int
	waveEnvs map[int][]string

	mu          sync.Mutex
	waves       map[int]bool
	first, last map[string]time.Time
}

func newRunNotifier(env *cli.Env, nf *cli.NotifyFlags, w *world, command string, sf *scopeFlags) (*runNotifier, error) {
	n, err := nf.Start(env, w.inv)
	if err != nil {
		return nil, err
	}
	r := &runNotifier{env: env, nf: nf, n: n, live: command == "apply",
		base:   notify.Event{Tool: "rollout", Command: command, Who: notify.Who(), Release: describeRelease(sf)},
		waveOf: map[string]int{}, waveEnvs: map[int][]string{},
		waves: map[int]bool{}, first: map[string]time.Time{}, last: map[string]time.Time{}}
	for _, t := range w.targets {
		r.waveOf[t.Name] = t.Wave
		r.waveEnvs[t.Wave] = append(r.waveEnvs[t.Wave], t.Name)
	}
	return r, nil
}

func describeRelease(sf *scopeFlags) string {
	parts := []string{}
	if sf.release != "" {
		parts = append(parts, sf.release)
	}
	return strings.Join(append(parts, sf.services...), " ")
}

func (r *runNotifier) event(kind notify.Kind) notify.Event {
	ev := r.base
	ev.Kind, ev.Time = kind, time.Now()
	return ev
}

// started sends run-started.
func (r *runNotifier) started(targets []rollout.EnvTarget) {
	ev := r.event(notify.RunStarted)
	ev.Envs = envNames(targets)
	r.n.Send(ev)
}

// Event is chained after the progress display's (the engine serializes
// calls). It never blocks: Send only queues.
func (r *runNotifier) Event(ev rollout.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.first[ev.Env]; !ok {
		r.first[ev.Env] = ev.Time
	}
	r.last[ev.Env] = ev.Time
	if !r.live {
		return
	}
	if w, ok := r.waveOf[ev.Env]; ok && !r.waves[w] {
		r.waves[w] = true
		nev := r.event(notify.WaveStarted)
		nev.Wave, nev.Envs = w, r.waveEnvs[w]
		r.n.Send(nev)
	}
	if ev.Step == "ended" {
		r.n.Send(r.envEvent(ev.Env, rollout.EnvStatus(ev.State), ev.Message))
	}
}

func (r *runNotifier) envEvent(env string, status rollout.EnvStatus, cause string) notify.Event {
	ev := r.event(notify.EnvFailed)
	if status == rollout.EnvDone {
		ev.Kind = notify.EnvDone
	}
	ev.Env, ev.Status, ev.Reason = env, string(status), cause
	if f, ok := r.first[env]; ok {
		ev.Duration = notify.Duration(r.last[env].Sub(f))
	}
	return ev
}

// finished sends what the report adds, waits for delivery (bounded by
// --notify-timeout) and returns err (the command's) unchanged.
func (r *runNotifier) finished(rep *rollout.Report, err error) error {
	defer r.nf.Close(r.env, r.n)
	if rep == nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.live {
		for _, e := range rep.Envs {
			if e.Status != rollout.EnvNotStarted {
				r.n.Send(r.envEvent(e.Env, e.Status, strings.TrimPrefix(e.Service+": "+e.Cause, ": ")))
			}
		}
	}
	code := cli.ExitOK
	if err != nil {
		code = cli.ExitFailed
		if ee := (*cli.ExitError)(nil); errors.As(err, &ee) {
			code = ee.Code
		}
	}
	if rep.NeedsHuman() {
		ev := r.event(notify.NeedsHuman)
		var why []string
		for _, e := range rep.Envs {
			if e.Status == rollout.EnvNeedsHuman || e.Status == rollout.EnvInterrupted {
				why = append(why, e.Env+": "+e.Cause)
			}
		}
		ev.Reason, ev.Commands, ev.Exit = strings.Join(why, "; "), rep.Commands(), cli.ExitHuman
		r.n.Send(ev)
	}
	ev := r.event(notify.RunFinished)
	ev.Summary, ev.Exit = rep.String(), code
	ev.Duration = notify.Duration(rep.Ended.Sub(rep.Started))
	ev.EnvDurations = map[string]notify.Duration{}
	for env, f := range r.first {
		ev.EnvDurations[env] = notify.Duration(r.last[env].Sub(f))
	}
	r.n.Send(ev)
	return err
}

// tee calls a, then b when set.
func tee(a, b func(rollout.Event)) func(rollout.Event) {
	if b == nil {
		return a
	}
	return func(ev rollout.Event) { a(ev); b(ev) }
}
