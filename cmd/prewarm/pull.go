package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/prewarm"
)

func pullCmd() *cli.Command {
	var f fleetFlags
	return &cli.Command{
		Name:    "pull",
		Summary: "pull the release's images onto every selected host, by digest from the host's region",
		Usage: "prewarm pull -f release.yaml [--env ENV,...] [--hosts HOST,...] [flags]\n\n" +
			"Each host pulls <region registry>/<repository>@<digest> (digests from the lock),\n" +
			"checks the image's RepoDigests and tags it <region registry>/<repository>:<tag>,\n" +
			"the reference rollout deploys. Hosts that hold it already cost one inspect call.\n" +
			"Exit 0 when every host is ready, 1 when some are not (named), 2 on usage errors.",
		Flags: func(fs *pflag.FlagSet) { f.register(fs, true) },
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			fl, err := f.load(ctx, env, args, true)
			if err != nil {
				return err
			}
			show, stop := hostBars(env, fl.targets)
			gate := prewarm.RegionGate(fl.inv, f.stall, env.Logger, env.Getenv)
			rep, err := fleet.Pull(ctx, fl.targets, fl.lock, append(fl.opts, show, fleet.WithRegionGate(gate))...)
			stop()
			if rep == nil {
				return cli.Usage("%v", err)
			}
			if werr := output.Print(env.Stdout, env.JSON, rep, rep.WriteTable); werr != nil {
				return werr
			}
			return notReady(ctx, rep.Failed(), len(rep.Hosts))
		},
	}
}

// notReady is the exit status of a host command: 1 naming the hosts, and
// saying so when the run was interrupted.
func notReady(ctx context.Context, hosts []string, of int) error {
	if len(hosts) == 0 {
		return nil
	}
	err := fmt.Errorf("%d of %d hosts not ready: %s", len(hosts), of, strings.Join(hosts, ", "))
	if ctx.Err() != nil {
		err = fmt.Errorf("interrupted (%w): %w", context.Cause(ctx), err)
	}
	return cli.Failed(err)
}
