package main

import (
	"context"
	"io"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output/rolloutview"
	"github.com/drover-dev/drover/rollout"
)

func planCmd() *cli.Command {
	var sf scopeFlags
	return &cli.Command{
		Name:    "plan",
		Summary: "show what apply would do: per wave, environment and service; changes nothing",
		Usage: "rollout plan -f release.yaml [--env ENV,...] [--service stack/svc=image ...]\n\n" +
			"Per service: current image -> new image, the action (upgrade, unchanged, pending,\n" +
			"busy, missing) and the batches; per environment: the gate (hosts missing the image,\n" +
			"hosts left out as not active). Exit 0, or 1 when an environment cannot be read.",
		Flags: func(fs *pflag.FlagSet) { sf.register(fs, true) },
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			w, err := sf.load(env, args, true)
			if err != nil {
				return err
			}
			defer w.conns.Close()
			e, err := rollout.New(w.conns.Connect, w.hosts, rollout.WithLogger(env.Logger))
			if err != nil {
				return err
			}
			p, err := e.Plan(ctx, w.targets)
			if werr := show(env, p, func(w io.Writer) error { return rolloutview.RolloutPlan(w, p) }); werr != nil {
				return werr
			}
			return cli.Failed(err)
		},
	}
}
