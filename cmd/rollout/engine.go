package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output/rolloutview"
	"github.com/drover-dev/drover/rollout"
)

// engineFlags are the engine's knobs, shared by apply and rollback.
type engineFlags struct {
	gateTimeout, gateInterval, upgradeTimeout, soak, drain time.Duration
	errorGrace                                             time.Duration
	stallTimeout                                           time.Duration
	prewarm                                                bool
	onPending, onInterrupt, finish                         string
	envConcurrency                                         int
	journal                                                string
	resume                                                 bool
	fs                                                     *pflag.FlagSet
	// onEvent, when set, gets every engine event after the display.
	onEvent func(rollout.Event)
}

// The engine flags each command takes: apply all of them; rollback those of
// its upgrade back to a previous image; finish those of its finish.
const (
	forApply = iota
	forRollback
	forFinish
)

func (f *engineFlags) register(fs *pflag.FlagSet, cmd int) {
	f.fs = fs
	if cmd != forFinish {
		fs.DurationVar(&f.gateTimeout, "gate-timeout", rollout.DefaultGateTimeout, "how long to wait for every host to hold the image (0: check once)")
		fs.DurationVar(&f.gateInterval, "gate-interval", rollout.DefaultGateInterval, "pause between gate re-checks")
		fs.BoolVar(&f.prewarm, "prewarm", false, "pull missing images onto hosts instead of only waiting for them")
	}
	// Defaults for the flags a command does not take.
	f.gateTimeout, f.gateInterval, f.soak = rollout.DefaultGateTimeout, rollout.DefaultGateInterval, rollout.DefaultSoak
	f.onPending, f.finish, f.onInterrupt = string(rollout.DefaultOnPending), string(rollout.DefaultFinish), string(rollout.DefaultOnInterrupt)
	if cmd == forApply {
		fs.StringVar(&f.onPending, "on-pending", string(rollout.DefaultOnPending), "an upgrade pending from an earlier run: finish, rollback or abort (printing the command)")
	}
	fs.DurationVar(&f.upgradeTimeout, "upgrade-timeout", rollout.DefaultUpgradeTimeout, "deadline per service until upgraded and healthy (a stuck upgrade fails)")
	f.errorGrace = rollout.DefaultErrorGrace
	if cmd != forFinish {
		fs.DurationVar(&f.stallTimeout, "stall-timeout", rollout.DefaultStallTimeout, "an upgrade with no batch progress (units at the new launch config, state, Rancher's message) for this long fails and is rolled back (0: none)")
	}
	if cmd != forFinish {
		fs.DurationVar(&f.errorGrace, "error-grace", rollout.DefaultErrorGrace, "how long an upgrade may show Rancher's transitioning: error (Cattle retries pulls and allocation) before it fails (0: at once)")
	}
	if cmd != forFinish {
		fs.DurationVar(&f.soak, "soak", rollout.DefaultSoak, "how long an upgraded service must stay healthy before it is finished")
	}
	if cmd == forApply {
		fs.StringVar(&f.finish, "finish", string(rollout.DefaultFinish), "auto: finish verified upgrades; manual: leave them upgraded (rollout finish later)")
		fs.StringVar(&f.onInterrupt, "on-interrupt", string(rollout.DefaultOnInterrupt), "first Ctrl-C: rollback or finish the services in flight")
	}
	fs.DurationVar(&f.drain, "drain-timeout", rollout.DefaultDrainTimeout, "after the first Ctrl-C, how long in-flight services get to come to rest")
	fs.IntVar(&f.envConcurrency, "env-concurrency", rollout.DefaultEnvConcurrency, "environments worked on at once (apply: within one wave)")
	fs.StringVar(&f.journal, "journal", "", "append every action, with its time, to this JSON-lines file")
	if cmd == forApply {
		fs.BoolVar(&f.resume, "resume", false, "continue the run recorded in --journal: skip services it finished")
	}
}

// engine builds the engine with these flags, a progress display and the
// two-stage interrupt (the second signal aborts). done releases it all.
func (f *engineFlags) engine(env *cli.Env, w *world) (e *rollout.Engine, done func(), err error) {
	if f.resume && f.journal == "" {
		return nil, nil, cli.Usage("--resume needs --journal FILE")
	}
	prog := rolloutview.NewRolloutLive(env.Stderr, env.IsTerminal && !env.JSON, env.Logger)
	// release: the signal handler, the live view, the Rancher connections and
	// the journal's lock, each once set up; also undone when setup fails.
	stopSignals := func() {}
	var j *rollout.Journal
	release := func() {
		stopSignals()
		prog.Close()
		_ = w.conns.Close()
		if j != nil {
			_ = j.Close()
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	if prog.Live() {
		prog.SetSize(func() (int, int) { return cli.TermSize(env.Stderr) })
		// Log lines go above the live table instead of through it.
		if env.Logger, err = cli.NewLogger(prog, env.LogFormat, env.LogLevel); err != nil {
			return nil, nil, err
		}
		w.conns.UseLogger(env.Logger)
	}
	// Each flag's option, checked alone so that a value it rejects is
	// reported by its flag (--soak), not by its option (WithSoak).
	flagged := []struct {
		flag string
		opt  rollout.Option
	}{
		{"gate-timeout", rollout.WithGateTimeout(f.gateTimeout)}, {"gate-interval", rollout.WithGateInterval(f.gateInterval)},
		{"on-pending", rollout.WithOnPending(rollout.PendingPolicy(f.onPending))}, {"upgrade-timeout", rollout.WithUpgradeTimeout(f.upgradeTimeout)},
		{"soak", rollout.WithSoak(f.soak)}, {"error-grace", rollout.WithErrorGrace(f.errorGrace)}, {"stall-timeout", rollout.WithStallTimeout(f.stallTimeout)}, {"finish", rollout.WithFinish(rollout.FinishMode(f.finish))},
		{"on-interrupt", rollout.WithOnInterrupt(rollout.PendingPolicy(f.onInterrupt))}, {"drain-timeout", rollout.WithDrainTimeout(f.drain)},
		{"env-concurrency", rollout.WithEnvConcurrency(f.envConcurrency)},
	}
	opts := []rollout.Option{rollout.WithLogger(env.Logger), rollout.WithProgress(tee(prog.Event, f.onEvent)), rollout.WithCommand(commandPrefix(env))}
	for _, fo := range flagged {
		if _, err := rollout.New(w.conns.Connect, w.hosts, fo.opt); err != nil {
			return nil, nil, cli.BadFlag(f.fs, fo.flag, err)
		}
		opts = append(opts, fo.opt)
	}
	if f.prewarm {
		opts = append(opts, rollout.WithPrewarm(w.hosts))
	}
	if f.journal != "" {
		if f.resume {
			entries, err := rollout.ReadJournal(f.journal)
			if err != nil {
				return nil, nil, cli.Usage("%v", err)
			}
			opts = append(opts, rollout.WithResume(entries))
		}
		if j, err = rollout.OpenJournal(f.journal); err != nil {
			j = nil
			return nil, nil, cli.Usage("%v", err)
		}
		opts = append(opts, rollout.WithJournal(j))
	}
	var abort <-chan struct{}
	abort, stopSignals = secondSignal(env)
	opts = append(opts, rollout.WithAbort(abort))
	if e, err = rollout.New(w.conns.Connect, w.hosts, opts...); err != nil {
		return nil, nil, cli.Usage("%v", err)
	}
	return e, release, nil
}
