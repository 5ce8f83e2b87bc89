package adapt

import (
	"strings"
	"sync"
	"time"

	"github.com/drover-dev/drover/internal/notify"
	"github.com/drover-dev/drover/rollout"
)

// RunNotifier turns one apply or rollback into notifications: run-started;
// from the engine's events, wave-started (an environment of a new wave is
// first heard from) and env-done/env-failed (its "ended" event); from the
// report, needs-human and run-finished. Rollback works on all its
// environments at once: its env-done/env-failed come from the report.
// Nothing it does blocks: [notify.Notifier.Send] only queues.
type RunNotifier struct {
	n    *notify.Notifier
	base notify.Event
	live bool // env events from the engine (apply), else from the report

	envs     []string
	waveOf   map[string]int
	waveEnvs map[int][]string

	mu          sync.Mutex
	waves       map[int]bool
	first, last map[string]time.Time
}

// NewRunNotifier sends the events of one run of command ("apply" or
// "rollback") of release (what the run rolls out, for people) over
// targets through n.
func NewRunNotifier(n *notify.Notifier, command, release string, targets []rollout.EnvTarget) *RunNotifier {
	r := &RunNotifier{n: n, live: command == "apply",
		base:   notify.Event{Tool: "rollout", Command: command, Who: notify.Who(), Release: release},
		waveOf: map[string]int{}, waveEnvs: map[int][]string{},
		waves: map[int]bool{}, first: map[string]time.Time{}, last: map[string]time.Time{}}
	for _, t := range targets {
		r.envs = append(r.envs, t.Name)
		r.waveOf[t.Name] = t.Wave
		r.waveEnvs[t.Wave] = append(r.waveEnvs[t.Wave], t.Name)
	}
	return r
}

func (r *RunNotifier) event(kind notify.Kind) notify.Event {
	ev := r.base
	ev.Kind, ev.Time = kind, time.Now()
	return ev
}

// Started sends run-started.
func (r *RunNotifier) Started() {
	ev := r.event(notify.RunStarted)
	ev.Envs = r.envs
	r.n.Send(ev)
}

// Event takes the engine's progress events (chained after the display's;
// the engine serializes calls).
func (r *RunNotifier) Event(ev rollout.Event) {
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

func (r *RunNotifier) envEvent(env string, status rollout.EnvStatus, cause string) notify.Event {
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

// Finished sends what the report adds: rollback's env-done/env-failed,
// needs-human (with exit humanExit and the commands to run) and
// run-finished with the run's exit code.
func (r *RunNotifier) Finished(rep *rollout.Report, exit, humanExit int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.live {
		for _, e := range rep.Envs {
			if e.Status != rollout.EnvNotStarted {
				r.n.Send(r.envEvent(e.Env, e.Status, strings.TrimPrefix(e.Service+": "+e.Cause, ": ")))
			}
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
		ev.Reason, ev.Commands, ev.Exit = strings.Join(why, "; "), rep.Commands(), humanExit
		r.n.Send(ev)
	}
	ev := r.event(notify.RunFinished)
	ev.Summary, ev.Exit = rep.String(), exit
	ev.Duration = notify.Duration(rep.Ended.Sub(rep.Started))
	ev.EnvDurations = map[string]notify.Duration{}
	for env, f := range r.first {
		ev.EnvDurations[env] = notify.Duration(r.last[env].Sub(f))
	}
	r.n.Send(ev)
}
