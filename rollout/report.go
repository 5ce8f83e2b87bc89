package rollout

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Report is what a run did, per environment and service.
type Report struct {
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	Interrupted bool      `json:"interrupted,omitempty"`
	// Error is why the run stopped before it worked on any environment
	// (FailedRun); empty for a run the engine reported.
	Error string      `json:"error,omitempty"`
	Envs  []EnvReport `json:"environments"`
}

// EnvStatus is how an environment ended.
type EnvStatus string

// Environment outcomes.
const (
	EnvDone        EnvStatus = "done"        // every service at its target (finished, or upgraded with --finish manual)
	EnvGated       EnvStatus = "gated"       // the gate did not open: nothing was written
	EnvFailed      EnvStatus = "failed"      // failed; upgraded services were rolled back
	EnvNeedsHuman  EnvStatus = "needs-human" // failed and could not be put back
	EnvInterrupted EnvStatus = "interrupted" // stopped by the caller; services brought to rest
	EnvNotStarted  EnvStatus = "not-started" // an earlier wave failed or the run was interrupted
)

// EnvReport is one environment's outcome.
type EnvReport struct {
	Env      string          `json:"env"`
	Wave     int             `json:"wave"`
	Status   EnvStatus       `json:"status"`
	Service  string          `json:"service,omitempty"` // the service that failed first
	Cause    string          `json:"cause,omitempty"`
	Gate     *GateStatus     `json:"gate,omitempty"`
	Seconds  float64         `json:"seconds"` // how long the environment took
	Services []ServiceReport `json:"services"`
}

// Service outcomes.
const (
	OutcomeFinished   = "finished"
	OutcomeUpgraded   = "upgraded" // left for a manual finish
	OutcomeUnchanged  = "unchanged"
	OutcomeSkipped    = "skipped" // finished by an earlier run (--resume)
	OutcomeRolledBack = "rolled-back"
	OutcomeFailed     = "failed"
	OutcomeNotStarted = "not-started"
	OutcomeStopped    = "stopped" // started, then stopped by another failure or an interrupt; see State
)

// ServiceReport is one service's outcome and, when it is not active, the
// command that resolves it.
type ServiceReport struct {
	Service string `json:"service"`
	ID      string `json:"id,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	State   string `json:"state,omitempty"`
	Health  string `json:"health,omitempty"`
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	// Note says why the service was upgraded differently from the
	// environment's strategy (stop-first for a published host port).
	Note    string `json:"note,omitempty"`
	Command string `json:"command,omitempty"`
}

// Failure is one environment's failure.
type Failure struct {
	Env        string
	Service    string
	Cause      string
	NeedsHuman bool
}

func (f *Failure) Error() string {
	s := "environment " + f.Env
	if f.Service != "" {
		s += " service " + f.Service
	}
	s += ": " + f.Cause
	if f.NeedsHuman {
		s += " (could not be put back: needs a human)"
	}
	return s
}

// ErrInterrupted is returned (wrapped) when the run was cancelled.
var ErrInterrupted = errors.New("rollout interrupted")

// Err joins a *Failure per failed environment; nil when every environment
// is done.
func (r *Report) Err() error {
	var errs []error
	for _, e := range r.Envs {
		switch e.Status {
		case EnvGated, EnvFailed, EnvNeedsHuman:
			errs = append(errs, &Failure{Env: e.Env, Service: e.Service, Cause: e.Cause, NeedsHuman: e.Status == EnvNeedsHuman})
		case EnvInterrupted:
			if u := stuckIn(e); len(u) > 0 {
				errs = append(errs, &Failure{Env: e.Env, Cause: fmt.Sprintf("interrupted with %d service(s) not active", len(u)), NeedsHuman: true})
			}
		case EnvDone, EnvNotStarted:
		}
	}
	if r.Interrupted && len(errs) == 0 {
		errs = append(errs, ErrInterrupted)
	}
	return errors.Join(errs...)
}

// NeedsHuman reports whether any environment could not be put back.
func (r *Report) NeedsHuman() bool {
	for _, e := range r.Envs {
		if e.Status == EnvNeedsHuman || (e.Status == EnvInterrupted && len(stuckIn(e)) > 0) {
			return true
		}
	}
	return false
}

// Unresolved lists every service not in active state (after the run), with
// the command that resolves it.
func (r *Report) Unresolved() []ServiceReport {
	var out []ServiceReport
	for _, e := range r.Envs {
		out = append(out, unresolvedIn(e)...)
	}
	return out
}

func unresolvedIn(e EnvReport) []ServiceReport {
	var out []ServiceReport
	for _, s := range e.Services {
		if s.State != "" && s.State != StateActive {
			out = append(out, s)
		}
	}
	return out
}

// stuckIn is unresolvedIn without the services deliberately left upgraded
// (--finish manual).
func stuckIn(e EnvReport) []ServiceReport {
	var out []ServiceReport
	for _, s := range unresolvedIn(e) {
		if s.Outcome != OutcomeUpgraded {
			out = append(out, s)
		}
	}
	return out
}

// Commands lists the commands a human should run, one per line.
func (r *Report) Commands() []string {
	var out []string
	for _, e := range r.Envs {
		for _, s := range e.Services {
			if s.Command != "" {
				out = append(out, s.Command)
			}
		}
	}
	return out
}

// commandFor is the command (starting with prefix, see command) that
// resolves a service left in state.
func commandFor(prefix, env, service, state string) string {
	scope := "--env " + env + " --service " + service
	switch state {
	case StateActive, "":
		return ""
	case StateUpgraded:
		return command(prefix, "finish", scope) + "   # or: " + command(prefix, "rollback", scope)
	case StateUpgrading, StateCanceledUpgrade:
		return command(prefix, "rollback", scope)
	default:
		return fmt.Sprintf("%s   # %s is %s: wait for it to settle, then rollback or finish", command(prefix, "status", "--env "+env), service, state)
	}
}

// command is a command line the reports print, in the form the tool
// documents: the tool (prefix's first word), the subcommand, the global
// flags prefix carries ("rollout -c FILE": WithCommand), then args:
// "rollout finish -c FILE --env dev --service web/app".
func command(prefix, sub, args string) string {
	tool, globals, _ := strings.Cut(prefix, " ")
	return strings.Join(slices.DeleteFunc([]string{tool, sub, globals, args}, func(s string) bool { return s == "" }), " ")
}

// CommandLine is a command line in the form every printed command takes:
// the tool (prefix's first word), the subcommand, the global flags prefix
// carries, then args: CommandLine("rollout -c hosts.yaml", "unlock",
// "--env dev") is "rollout unlock -c hosts.yaml --env dev".
func CommandLine(prefix, sub, args string) string { return command(prefix, sub, args) }

// String is a one-line summary.
func (r *Report) String() string {
	var parts []string
	for _, e := range r.Envs {
		parts = append(parts, e.Env+"="+string(e.Status))
	}
	return strings.Join(parts, " ")
}
