package main

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/prewarm"
)

func pruneCmd() *cli.Command {
	var f fleetFlags
	var repos []string
	var keep int
	var dryRun bool
	return &cli.Command{
		Name:    "prune",
		Summary: "remove older images of the release's repositories from hosts",
		Usage: "prewarm prune -f release.yaml [--keep N] [--dry-run] [--env ENV,...] [--hosts HOST,...]\n\n" +
			"Keeps per repository the current image (the lock's, else the newest), N previous\n" +
			"ones (by creation time), anything newer, every image a container uses (running or\n" +
			"stopped: what a Rancher rollback restarts) and every image the lock names.",
		Flags: func(fs *pflag.FlagSet) {
			f.register(fs, false)
			fs.StringSliceVar(&repos, "repo", nil, "repositories to prune besides the lock's (path in the registry, e.g. team/app)")
			fs.IntVar(&keep, "keep", 2, "previous images to keep; unset: each environment's retention.keep")
			fs.BoolVar(&dryRun, "dry-run", false, "list what would go and the bytes freed; change nothing")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if keep < 0 {
				return cli.BadFlag(f.fs, "keep", errors.New("want 0 or more"))
			}
			fl, err := f.load(ctx, env, args, false)
			if err != nil {
				return err
			}
			all := append([]string(nil), repos...)
			if fl.lock != nil {
				for _, im := range fl.lock.Images {
					all = append(all, im.Repository)
				}
			}
			if len(all) == 0 {
				return cli.Usage("nothing to prune: give -f release.yaml (with its lock) or --repo")
			}
			// The inventory's retention.keep has the defaults merged in,
			// and an explicit 0 means keep none.
			keepFor := map[string]int{}
			for _, e := range fl.inv.Environments {
				keepFor[e.Name] = keep
				if !f.fs.Changed("keep") {
					keepFor[e.Name] = e.Retention.Keep
				}
			}
			reps := make([]*prewarm.PruneReport, len(fl.targets))
			var mu sync.Mutex
			var errs []error
			var g errgroup.Group
			g.SetLimit(fl.concurrency)
			for i, t := range fl.targets {
				g.Go(func() error {
					rep, err := prewarm.Prune(ctx, t, all, keepFor[t.Env], fl.lock, dryRun, fl.opts...)
					reps[i] = rep
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
					return nil
				})
			}
			_ = g.Wait()
			if werr := output(env, reps, func(w io.Writer) error {
				for _, r := range reps {
					if r != nil {
						if err := r.WriteTable(w); err != nil {
							return err
						}
					}
				}
				return nil
			}); werr != nil {
				return werr
			}
			return cli.Failed(errors.Join(errs...))
		},
	}
}
