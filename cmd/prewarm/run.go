package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

func runCmd() *cli.Command {
	var f fleetFlags
	var reportFile, metricsFile string
	var relock bool
	var nf cli.NotifyFlags
	return &cli.Command{
		Name:    "run",
		Summary: "mirror the release to the regions, then pull it onto every host (the nightly job)",
		Usage: "prewarm run -f release.yaml [--report FILE] [--metrics-file FILE] [flags]\n\n" +
			"Resolves the release at the source (a tag that moved since the lock is an error\n" +
			"unless --relock), writes the lock, mirrors to the selected environments' regions,\n" +
			"then pulls onto their hosts, each region's as soon as that region holds the release;\n" +
			"a region that does not answer within --stall-timeout fails alone and its hosts are\n" +
			"reported not ready. --metrics-file is written atomically for\n" +
			"node_exporter's textfile collector. Exit 0 when every host is ready, 1 when some\n" +
			"are not (named in the report), 2 on usage or configuration errors, 4 when another run\n" +
			"of the release is still going (a lock file beside its lock: release.lock.json.run.lock).",
		Flags: func(fs *pflag.FlagSet) {
			f.register(fs, true)
			fs.StringVar(&reportFile, "report", "", "write the JSON report to FILE")
			fs.StringVar(&metricsFile, "metrics-file", "", "write Prometheus text-format metrics to FILE")
			fs.BoolVar(&relock, "relock", false, "accept tags that moved since the lock was written")
			nf.Register(fs)
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) (err error) {
			runLock, err := lockRun(&f)
			if err != nil {
				return err
			}
			defer func() { _ = runLock.Unlock() }()
			started := time.Now()
			logRunStart(env, f.release)
			rr, err := nightly(ctx, env, &f, args, relock)
			defer func() { notifyRun(env, &nf, f.release, started, rr, err) }()
			defer func() { logRunEnd(env, started, rr, err) }()
			if rr == nil {
				// Stopped before mirroring or pulling: the report and the
				// metrics say so, rather than keep the last good run's.
				rr = fleet.FailedRun(started, err)
			}
			if reportFile != "" {
				if werr := output.WriteJSON(reportFile, rr); werr != nil {
					return cli.Failed(fmt.Errorf("write report: %w", werr))
				}
			}
			if metricsFile != "" {
				if werr := rr.WriteMetrics(metricsFile); werr != nil {
					return cli.Failed(fmt.Errorf("write metrics: %w", werr))
				}
			}
			if rr.Error != "" {
				return err
			}
			if werr := output.Print(env.Stdout, env.JSON, rr, rr.Pull.WriteTable); werr != nil {
				return werr
			}
			if rr.MirrorError != "" {
				env.Logger.Error("mirror failed", "err", rr.MirrorError)
			}
			if len(rr.NotReady) == 0 && rr.MirrorError != "" {
				return cli.Failed(fmt.Errorf("mirror: %s", rr.MirrorError))
			}
			return notReady(ctx, rr.NotReady, len(rr.Pull.Hosts))
		},
	}
}

// nightly resolves, locks, mirrors and pulls. A nil report means it
// stopped before mirroring or pulling anything (the error says why).
func nightly(ctx context.Context, env *cli.Env, f *fleetFlags, args []string, relock bool) (*fleet.RunReport, error) {
	if f.release == "" {
		return nil, cli.Usage("give the release file (-f release.yaml)")
	}
	f.resolves = true // a release that changed since the lock is what run is for
	fl, err := f.load(ctx, env, args, false)
	if err != nil {
		return nil, err
	}
	rel, err := inventory.LoadRelease(f.release)
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	ropts := []registry.Option{registry.WithLogger(env.Logger), registry.WithGetenv(env.Getenv), registry.WithPrevious(fl.lock), registry.WithRelock(relock)}
	lock, err := registry.Resolve(ctx, fl.inv.Registries.Source, rel, ropts...)
	if err != nil {
		return nil, resolveErr(fmt.Errorf("resolve %s: %w", f.release, err))
	}
	if err := inventory.WriteLock(fl.lockAt, lock); err != nil {
		return nil, cli.Failed(err)
	}
	regions := map[string]inventory.Registry{}
	for _, t := range fl.targets {
		regions[t.Region] = fl.inv.Registries.Regions[t.Region]
	}
	mirror := func(ctx context.Context, ready func(string, error)) (any, error) {
		// Only an unreachable region fails its hosts before they try; one
		// that lacks an image still has its hosts pull the others.
		done := func(region string, err error) {
			if !errors.Is(err, registry.ErrRegionUnreachable) {
				err = nil
			}
			ready(region, err)
		}
		return registry.Mirror(ctx, lock, fl.inv.Registries.Source, regions,
			append(ropts[:2:2], registry.WithStallTimeout(f.stall), registry.WithRegionDone(done))...)
	}
	show, stop := hostBars(env, fl.targets)
	rr, err := fleet.Run(ctx, fl.targets, lock, mirror, append(fl.opts, show)...)
	stop()
	if rr == nil {
		return nil, cli.Usage("%v", err)
	}
	return rr, nil
}
