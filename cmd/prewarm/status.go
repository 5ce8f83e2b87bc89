package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
)

func statusCmd() *cli.Command {
	var f fleetFlags
	return &cli.Command{
		Name:    "status",
		Summary: "show which hosts hold the release's images (by digest); changes nothing",
		Usage: "prewarm status -f release.yaml [--env ENV,...] [--hosts HOST,...] [--json]\n\n" +
			"Asks each host once what it is (os/arch, and a Windows host's build: the PLATFORM\n" +
			"column, platform in --json) and picks each image's entry for it from an index, then\n" +
			"one inspect per host and image: present (deploy ref carries the locked digest),\n" +
			"missing, wrong-digest, wrong-platform (the digest, but another Windows build's image),\n" +
			"no-platform (the index has no entry for the host; no pull helps) or unreachable.\n" +
			"Exit 0 only when every host holds every image.",
		Flags: func(fs *pflag.FlagSet) { f.register(fs, false) },
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			fl, err := f.load(ctx, env, args, true)
			if err != nil {
				return err
			}
			m, err := fleet.Status(ctx, fl.targets, fl.lock, fl.opts...)
			if err != nil {
				return cli.Usage("%v", err)
			}
			if err := output.Print(env.Stdout, env.JSON, m, m.WriteTable); err != nil {
				return err
			}
			return notReady(ctx, m.NotReady(), len(m.Hosts))
		},
	}
}
