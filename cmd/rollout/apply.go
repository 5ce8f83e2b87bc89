package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/rollout"
)

func applyCmd() *cli.Command {
	var f runFlags
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
			f.sf.register(fs, true)
			f.ef.register(fs, forApply)
			f.nf.Register(fs)
			f.rf.register(fs)
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			return f.run(ctx, env, args, "apply", true, nil, (*rollout.Engine).Apply)
		},
	}
}
