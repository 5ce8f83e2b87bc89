package main

import (
	"context"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/registry"
)

// hostBars shows the hosts' progress on stderr: pass the option to the
// fleet call, and call stop once it returns.
func hostBars(env *cli.Env, targets []fleet.Target) (opt fleet.Option, stop func()) {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	d := output.NewHostBars(env.Stderr, env.IsTerminal, env.Logger, names, output.LogInterval)
	return fleet.WithProgress(func(p fleet.Progress) { d.Update(p.Host, p.Image, p.Phase, p.Current, p.Total) }), d.Close
}

// regionBars shows the mirror's progress per region on stderr: bars on a
// terminal (without --json), else log lines.
func regionBars(ctx context.Context, env *cli.Env) (opt registry.Option, stop func()) {
	show, stop := output.RegionBars(ctx, env.Stderr, env.IsTerminal && !env.JSON, env.Logger)
	return registry.WithProgress(func(p registry.Progress) { show(p.Region, p.Done, p.Total) }), stop
}
