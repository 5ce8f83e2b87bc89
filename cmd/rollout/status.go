package main

import (
	"context"
	"io"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output/rolloutview"
	"github.com/drover-dev/drover/rollout"
)

func statusCmd() *cli.Command {
	var sf scopeFlags
	return &cli.Command{
		Name:    "status",
		Summary: "per environment and service: state, health, image, pending upgrade",
		Usage: "rollout status [--env ENV,...] [--service stack/svc ...] [-f release.yaml]\n\n" +
			"Services: those named, else the release's, else every service. Read-only.\n" +
			"Below the table: who holds an environment's lease (a running apply, rollback, finish).\n" +
			"Exit 0, or 1 when an environment cannot be read.",
		Flags: func(fs *pflag.FlagSet) { sf.register(fs, false) },
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			w, err := sf.load(env, args, false)
			if err != nil {
				return err
			}
			defer w.conns.Close()
			e, err := rollout.New(w.conns.Connect, w.hosts, rollout.WithLogger(env.Logger), rollout.WithCommand(commandPrefix(env)))
			if err != nil {
				return err
			}
			st, err := e.Status(ctx, w.targets)
			if lerr := leases(env, w, "status", nil).AddHolders(ctx, st, commandPrefix(env)); lerr != nil {
				env.Logger.Warn("could not read the environment leases", "err", lerr)
			}
			if werr := show(env, st, func(w io.Writer) error { return rolloutview.RolloutStatus(w, st) }); werr != nil {
				return werr
			}
			return cli.Failed(err)
		},
	}
}
