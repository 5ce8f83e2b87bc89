package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
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
			"reported not ready. Like plan, it logs (WARN) and reports as outsideFetches the hosts\n" +
			"that will download foreign layers from the vendor's URLs. --metrics-file is written atomically for\n" +
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
			if f.release != "" { // else nightly says what is missing
				runLock, err := prewarm.LockRun(f.release, inventory.LockPath(f.release, f.lock))
				if err != nil {
					return err
				}
				defer func() { _ = runLock.Unlock() }()
			}
			started := time.Now()
			logRunStart(env, f.release)
			// The notifier first: a refused webhook is a usage error (exit 2)
			// before any work, and the report and metrics say so.
			n, err := startNotify(env, &nf)
			var rr *prewarm.Report
			if err == nil {
				rr, err = nightly(ctx, env, &f, args, relock)
			}
			defer func() { notifyRun(env, &nf, n, f.release, started, rr, err) }()
			defer func() { logRunEnd(env, started, rr, err) }()
			if rr == nil {
				// Stopped before mirroring or pulling: the report and the
				// metrics say so, rather than keep the last good run's.
				rr = prewarm.FailedRun(started, err)
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

// nightly loads what the run works on and runs it (prewarm.Nightly). A nil
// report means it stopped before mirroring or pulling anything (the error
// says why).
func nightly(ctx context.Context, env *cli.Env, f *fleetFlags, args []string, relock bool) (*prewarm.Report, error) {
	if f.release == "" {
		return nil, cli.Usage("give the release file (-f release.yaml)")
	}
	f.resolves = true // a release that changed since the lock is what run is for
	fl, err := f.load(ctx, env, args, false)
	if err != nil {
		return nil, err
	}
	show, stop := hostBars(env, fl.targets)
	defer stop()
	return prewarm.Nightly(ctx, prewarm.Job{Inventory: fl.inv, Release: f.release, LockFile: fl.lockAt, Previous: fl.lock, Relock: relock,
		Hosts: fl.targets, Fleet: append(fl.opts, show), StallTimeout: f.stall, Logger: env.Logger, Getenv: env.Getenv})
}
