package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
)

func finishCmd() *cli.Command {
	var sf scopeFlags
	var ef engineFlags
	return &cli.Command{
		Name:    "finish",
		Summary: "finish pending upgrades (services left upgraded, e.g. by --finish manual)",
		Usage: "rollout finish --env ENV,... [--service stack/svc ...] [-f release.yaml]\n\n" +
			"Services: those named, else the release's, else every service in state upgraded.\n" +
			"Each is finished (Rancher finishupgrade: the old containers are removed).\n" +
			"Exit 0 done, 1 failed, 3 needs a human, 4 another run holds the environment's lease.",
		Flags: func(fs *pflag.FlagSet) {
			sf.register(fs, false)
			ef.register(fs, forFinish)
			fs.Lookup("env").Usage = "environments (required)"
			fs.Lookup("file").Usage = "release file: finish its services (default: every service in state upgraded)"
			fs.Lookup("upgrade-timeout").Usage = "deadline per service until finished (a stuck finish fails)"
			fs.Lookup("drain-timeout").Usage = "after the first Ctrl-C, how long the finishes in flight get to complete"
			fs.Lookup("env-concurrency").Usage = "environments worked on at once"
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(sf.envs) == 0 {
				return cli.Usage("finish needs --env")
			}
			w, err := sf.load(env, args, false)
			if err != nil {
				return err
			}
			e, done, err := ef.engine(env, w)
			if err != nil {
				return err
			}
			ctx, release, err := hold(ctx, env, w, "finish", &sf)
			if err != nil {
				done()
				return err
			}
			defer release()
			rep, err := e.Finish(ctx, w.targets)
			done()
			return finish(env, rep, err, "finish", nil)
		},
	}
}
