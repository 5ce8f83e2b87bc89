package main

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/rollout"
)

func applyCmd() *cli.Command {
	var sf scopeFlags
	var ef engineFlags
	var nf cli.NotifyFlags
	var rf reportFlags
	return &cli.Command{
		Name:    "apply",
		Summary: "roll the release out: waves in order, each environment gated, upgraded, verified and finished",
		Usage: "rollout apply -f release.yaml [--env ENV,...] [--service stack/svc=image ...]\n" +
			"       [--report FILE] [--metrics-file FILE] [flags]\n\n" +
			"Per environment: gate (every active host that can run a service holds its image),\n" +
			"pre-flight (--on-pending), upgrade (the environment's inServiceStrategy), verify\n" +
			"(healthy for --soak), finish. A failure rolls that environment back and stops later\n" +
			"waves. Ctrl-C once: start nothing new, bring in-flight services to rest; twice: abort.\n" +
			"Exit 0 done, 1 failed (rolled back), 2 usage, 3 could not roll back (needs a human),\n" +
			"4 another run holds an environment's lease (named; nothing changed: rollout unlock).",
		Flags: func(fs *pflag.FlagSet) {
			sf.register(fs, true)
			ef.register(fs, forApply)
			nf.Register(fs)
			rf.register(fs)
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) (err error) {
			var rep *rollout.Report
			rf.started = time.Now()
			defer func() { err = rf.write(rep, err) }()
			w, err := sf.load(env, args, true)
			if err != nil {
				return err
			}
			// The engine first: on a terminal it puts env.Logger above the
			// live table, and the notifier's warnings must go there too.
			var rn *runNotifier
			ef.onEvent = func(ev rollout.Event) { rn.Event(ev) }
			e, done, err := ef.engine(env, w)
			if err != nil {
				return err
			}
			if rn, err = newRunNotifier(env, &nf, w, "apply", &sf); err != nil {
				done()
				return err
			}
			rn.Started()
			ctx, release, err := hold(ctx, env, w, "apply", &sf)
			if err != nil {
				done()
				return rn.finished(nil, err)
			}
			defer release()
			rep, err = e.Apply(ctx, w.targets)
			done()
			return rn.finished(rep, finish(env, rep, err, "apply", &sf))
		},
	}
}
