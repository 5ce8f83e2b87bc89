package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/rollout"
)

func rollbackCmd() *cli.Command {
	var f runFlags
	return &cli.Command{
		Name:    "rollback",
		Summary: "put services back: Rancher rollback of a pending upgrade, or upgrade back to the previous image",
		Usage: "rollout rollback --env ENV,... [--service stack/svc ...] [-f release.yaml]\n" +
			"       [--report FILE] [--metrics-file FILE]\n\n" +
			"A service upgraded/upgrading is rolled back by Rancher (old containers restart,\n" +
			"no pull). A finished one is upgraded back to its previousLaunchConfig image, gated\n" +
			"on that image still being on the hosts, verified and finished. Services: those\n" +
			"named, else the release's, else every service with a pending upgrade. With\n" +
			"-f, a service whose previous image is the release's was rolled back already\n" +
			"and is left alone. A first Ctrl-C starts nothing new and finishes the upgrades\n" +
			"back already under way (never rolls them back); a second aborts.\n" +
			"Without -f or --service, finding no pending upgrade is a failure (exit 1): it\n" +
			"says so and what to add, since finished upgrades go back only when named.\n" +
			"Exit 0 done, 1 failed or nothing to roll back, 3 needs a human, 4 another run\n" +
			"holds the environment's lease (named; nothing changed).",
		Flags: func(fs *pflag.FlagSet) {
			f.sf.register(fs, false)
			f.ef.register(fs, forRollback)
			f.nf.Register(fs)
			f.rf.register(fs)
			fs.Lookup("env").Usage = "environments (required)"
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			needEnv := func() error {
				if len(f.sf.envs) == 0 {
					return cli.Usage("rollback needs --env")
				}
				return nil
			}
			return f.run(ctx, env, args, "rollback", false, needEnv, (*rollout.Engine).Rollback)
		},
	}
}
