package rollout

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Option configures an Engine.
type Option func(*Engine) error

// The engine's defaults: New starts from them, and the rollout command's
// flags show them. Each is the one definition of its value.
const (
	DefaultGateTimeout    = 10 * time.Minute
	DefaultGateInterval   = 10 * time.Second
	DefaultUpgradeTimeout = 15 * time.Minute
	DefaultStallTimeout   = 10 * time.Minute
	DefaultSoak           = 30 * time.Second
	DefaultErrorGrace     = 5 * time.Minute
	DefaultHealthInterval = 2 * time.Second
	DefaultDrainTimeout   = 10 * time.Minute
	DefaultOnPending      = PendingAbort
	DefaultOnInterrupt    = PendingRollback
	DefaultFinish         = FinishAuto
	// DefaultEnvConcurrency bounds environments at once within a wave
	// (not inventory.DefaultConcurrency, services at once in one
	// environment).
	DefaultEnvConcurrency = 4
)

// PendingPolicy says what to do with a service found with an upgrade pending
// from an earlier run (pre-flight), or in flight when interrupted.
type PendingPolicy string

// Pending policies.
const (
	PendingAbort    PendingPolicy = "abort"
	PendingFinish   PendingPolicy = "finish"
	PendingRollback PendingPolicy = "rollback"
)

// FinishMode says whether verified upgrades are finished by the engine.
type FinishMode string

// Finish modes.
const (
	FinishAuto   FinishMode = "auto"
	FinishManual FinishMode = "manual"
)

// WithLogger sets the logger. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(e *Engine) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		e.log = l
		return nil
	}
}

// WithProgress sets a callback for every state change the engine sees. Calls
// are serialized. The default is none.
func WithProgress(f func(Event)) Option {
	return func(e *Engine) error { e.progress = f; return nil }
}

// WithJournal records every action to j. The default is no journal.
func WithJournal(j *Journal) Option {
	return func(e *Engine) error { e.journal = j; return nil }
}

// WithResume continues an earlier run from its journal entries: services it
// finished (and that still run that image) are skipped; an upgrade it started
// and left pending is adopted (verified and finished) instead of tripping
// the pending policy.
func WithResume(entries []Entry) Option {
	return func(e *Engine) error { e.resume = newResumeState(entries); return nil }
}

// WithPrewarm makes the gate pull missing images itself. The default is to
// only wait for them.
func WithPrewarm(p Puller) Option {
	return func(e *Engine) error {
		if p == nil {
			return errors.New("WithPrewarm: nil puller")
		}
		e.puller = p
		return nil
	}
}

func durationOpt(name string, min time.Duration, set func(*Engine, time.Duration)) func(time.Duration) Option {
	return func(d time.Duration) Option {
		return func(e *Engine) error {
			if d < min {
				return fmt.Errorf("%s: %v is below %v", name, d, min)
			}
			set(e, d)
			return nil
		}
	}
}

var (
	// WithGateTimeout bounds how long the gate waits for images on hosts
	// (0 = check once). It bounds every presence check inside the gate too
	// (a hung host counts as missing when it is up), each check getting at
	// least 5s, and, when set, every pull of WithPrewarm. The default is 10m.
	WithGateTimeout = durationOpt("WithGateTimeout", 0, func(e *Engine, d time.Duration) { e.gateTimeout = d })
	// WithGateInterval is the pause between gate re-checks. The default is 10s.
	WithGateInterval = durationOpt("WithGateInterval", time.Millisecond, func(e *Engine, d time.Duration) { e.gateInterval = d })
	// WithUpgradeTimeout bounds one service's upgrade until it is upgraded and
	// healthy; a service still upgrading then is a failure. The default is 15m.
	WithUpgradeTimeout = durationOpt("WithUpgradeTimeout", time.Millisecond, func(e *Engine, d time.Duration) { e.upgradeTimeout = d })
	// WithStallTimeout fails an upgrade (rolled back like an upgrade
	// timeout) that shows no batch progress for this long: no change in
	// the units at the new launch config, the state or Rancher's
	// transitioning message (0 = no stall deadline). It bounds the gap
	// between batches where WithUpgradeTimeout bounds their sum: a service
	// of many batches of slow-starting containers (Windows servercore takes
	// minutes per batch) needs a long upgrade timeout, and a stuck batch
	// should not take that long to notice. The default is 10m: longer than
	// one slow batch's start and health check, far shorter than many.
	WithStallTimeout = durationOpt("WithStallTimeout", 0, func(e *Engine, d time.Duration) { e.stallTimeout = d })
	// WithSoak is how long an upgraded service must be seen healthy before
	// it is finished (0 = healthy once). Only time between two healthy
	// reads counts: while health cannot be read the soak runs on, up to
	// twice its length, and then fails. The default is 30s.
	WithSoak = durationOpt("WithSoak", 0, func(e *Engine, d time.Duration) { e.soak = d })
	// WithErrorGrace is how long an upgrade may keep reporting
	// transitioning: error before it fails, counted from its first error
	// (0 = fail at the first). Cattle keeps retrying a failed pull or
	// allocation and the error clears once a retry succeeds: a registry
	// briefly away, a multi-GB image whose pull timed out once, a port
	// freed a moment later. An error once the state has left the upgrade
	// fails at once. The default is 5m: several of Cattle's retries, well
	// inside the 15m upgrade timeout, which still bounds the whole upgrade.
	WithErrorGrace = durationOpt("WithErrorGrace", 0, func(e *Engine, d time.Duration) { e.errorGrace = d })
	// WithHealthInterval is the pause between health reads during the soak.
	// The default is 2s.
	WithHealthInterval = durationOpt("WithHealthInterval", time.Millisecond, func(e *Engine, d time.Duration) { e.healthInterval = d })
	// WithDrainTimeout bounds bringing in-flight services to rest after the
	// context is cancelled (the first Ctrl-C). The default is 10m.
	WithDrainTimeout = durationOpt("WithDrainTimeout", time.Millisecond, func(e *Engine, d time.Duration) { e.drainTimeout = d })
)

// WithOnPending sets the pre-flight policy for upgrades pending from an
// earlier run. The default is PendingAbort (with the command to run).
func WithOnPending(p PendingPolicy) Option {
	return func(e *Engine) error {
		switch p {
		case PendingAbort, PendingFinish, PendingRollback:
			e.onPending = p
			return nil
		}
		return fmt.Errorf("on-pending %q: want abort, finish or rollback", p)
	}
}

// WithOnInterrupt sets what happens to in-flight upgrades after the first
// cancellation: PendingRollback (the default) or PendingFinish (verify, then
// finish per the finish mode).
func WithOnInterrupt(p PendingPolicy) Option {
	return func(e *Engine) error {
		if p != PendingRollback && p != PendingFinish {
			return fmt.Errorf("on-interrupt %q: want rollback or finish", p)
		}
		e.onInterrupt = p
		return nil
	}
}

// WithFinish sets the finish mode. The default is FinishAuto.
func WithFinish(m FinishMode) Option {
	return func(e *Engine) error {
		if m != FinishAuto && m != FinishManual {
			return fmt.Errorf("finish %q: want auto or manual", m)
		}
		e.finish = m
		return nil
	}
}

// WithEnvConcurrency bounds environments rolled out at once within a wave.
// The default is 4.
func WithEnvConcurrency(n int) Option {
	return func(e *Engine) error {
		if n < 1 {
			return fmt.Errorf("WithEnvConcurrency: %d is below 1", n)
		}
		e.envConcurrency = n
		return nil
	}
}

// WithCommand sets the tool and global flags of the commands the reports
// print to resolve a service, e.g. "rollout -c /etc/drover/hosts.yaml" so
// they work from any directory; they are printed subcommand first
// ("rollout finish -c /etc/drover/hosts.yaml --env ..."). The default is
// "rollout".
func WithCommand(prefix string) Option {
	return func(e *Engine) error {
		if strings.TrimSpace(prefix) == "" {
			return errors.New("WithCommand: empty command")
		}
		e.command = prefix
		return nil
	}
}

// WithAbort gives the second stage of interruption: when abort is closed,
// in-flight waits stop at once and the report is written from the last
// state seen. The default is none (only the drain timeout ends the drain).
func WithAbort(abort <-chan struct{}) Option {
	return func(e *Engine) error { e.abort = abort; return nil }
}
