package main

import (
	"context"
	"fmt"
	"github.com/drover-dev/drover/rollout/adapt"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/rollout"
)

func unlockCmd() *cli.Command {
	var sf scopeFlags
	return &cli.Command{
		Name:    "unlock",
		Summary: "remove an environment's lease, for when the run holding it is gone",
		Usage: "rollout unlock --env ENV,...\n\n" +
			"apply, rollback and finish hold a lease on each environment (a genericObject in its\n" +
			"Rancher project) so that only one operator works on it; a second run exits 4 naming\n" +
			"the holder. A run that crashed stops renewing and its lease is taken over with a\n" +
			"warning once expired; unlock removes it at once, live or not, and prints who held it.\n" +
			"Only unlock a lease whose run is gone: a live one notices and stops starting work.\n" +
			"Exit 0 (also when nobody held it), 1 when a lease could not be removed.",
		Flags: func(fs *pflag.FlagSet) {
			fs.StringSliceVar(&sf.envs, "env", nil, "environments (required)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(sf.envs) == 0 {
				return cli.Usage("unlock needs --env")
			}
			w, err := sf.load(env, args, false)
			if err != nil {
				return err
			}
			defer w.conns.Close()
			ls := leases(env, w, "unlock", nil)
			var failed error
			for _, e := range rollout.EnvNames(w.targets) {
				removed, err := ls.ForceUnlock(ctx, e)
				for _, h := range removed {
					fmt.Fprintf(env.Stdout, "%s: removed lease, %s\n", e, adapt.HolderText(h))
				}
				if len(removed) == 0 && err == nil {
					fmt.Fprintf(env.Stdout, "%s: not held\n", e)
				}
				if err != nil {
					failed = err
					env.Logger.Error("unlock failed", "env", e, "err", err)
				}
			}
			return cli.Failed(failed)
		},
	}
}
