package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

func pruneCmd() *cli.Command {
	var f fleetFlags
	var repos []string
	var keep int
	var dryRun, includeRollback bool
	var journal string
	return &cli.Command{
		Name:    "prune",
		Summary: "remove older images of the release's repositories from hosts",
		Usage: "prewarm prune -f release.yaml [--keep N] [--dry-run] [--journal FILE] [--env ENV,...] [--hosts HOST,...]\n\n" +
			"Keeps per repository the current image (the lock's, else what Rancher runs, else the\n" +
			"newest), N previous ones, anything newer, every image a container uses (running or\n" +
			"stopped), every image the lock names and, unless --include-rollback-image, the images\n" +
			"the services' last upgrade would roll back to. With rancher.url (or $RANCHER_URL) set,\n" +
			"newer and older follow what was deployed (lock, services' current, then previous\n" +
			"images); creation time only orders images deployed nowhere. --journal adds what\n" +
			"rollout's journal records: the images its services ran before (or were rolled back\n" +
			"to) are rollback images too.",
		Flags: func(fs *pflag.FlagSet) {
			f.register(fs, false)
			fs.StringSliceVar(&repos, "repo", nil, "repositories to prune besides the lock's (path in the registry, e.g. team/app)")
			fs.IntVar(&keep, "keep", inventory.DefaultKeep, "previous images to keep; unset: each environment's retention.keep")
			fs.BoolVar(&dryRun, "dry-run", false, "list what would go and the bytes freed; change nothing")
			fs.BoolVar(&includeRollback, "include-rollback-image", false, "also remove the images a Rancher rollback would restart")
			fs.StringVar(&journal, "journal", "", "rollout's journal (rollout apply --journal FILE): keep the images it would roll back to")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if keep < 0 {
				return cli.BadFlag(f.fs, "keep", errors.New("want 0 or more"))
			}
			fl, err := f.load(ctx, env, args, false)
			if err != nil {
				return err
			}
			all := pruneRepos(repos, fl.lock)
			if len(all) == 0 {
				return cli.Usage("nothing to prune: give -f release.yaml (with its lock) or --repo")
			}
			keepFor := pruneKeep(fl.inv, keep, f.fs.Changed("keep"))
			var fromJournal map[string]*fleet.Deployed
			if journal != "" {
				if fromJournal, err = fleet.JournalDeployed(journal); err != nil {
					return cli.Usage("--journal: %v (give the file rollout apply --journal writes)", err)
				}
			}
			deployed, err := deployedByEnv(ctx, env, fl.inv, fl.targets)
			if errors.Is(err, rancher.ErrNotConfigured) {
				return cli.Usage("%v", err) // as seed, discover and rollout
			}
			if err != nil {
				return cli.Failed(err)
			}
			deployed = fleet.MergeDeployed(deployed, fromJournal)
			reps, err := fleet.PruneAll(ctx, fl.targets, all, keepFor, fl.lock, dryRun, deployed, append(fl.opts, fleet.WithIncludeRollback(includeRollback))...)
			if werr := output.Print(env.Stdout, env.JSON, reps, func(w io.Writer) error {
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
			return cli.Failed(err)
		},
	}
}

// pruneRepos are the repositories prune works on: --repo's and the lock's.
func pruneRepos(repos []string, lock *inventory.Lock) []string {
	all := append([]string(nil), repos...)
	if lock != nil {
		for _, im := range lock.Images {
			all = append(all, im.Repository)
		}
	}
	return all
}

// pruneKeep is how many previous images prune keeps per environment:
// --keep when given (changed), else the environment's retention.keep
// (the inventory's has the defaults merged in; an explicit 0 keeps none).
func pruneKeep(inv *inventory.Inventory, keep int, changed bool) map[string]int {
	keepFor := map[string]int{}
	for _, e := range inv.Environments {
		keepFor[e.Name] = keep
		if !changed {
			keepFor[e.Name] = e.Retention.Keep
		}
	}
	return keepFor
}

// deployedByEnv reads what Rancher runs in each environment of targets,
// when the inventory (or $RANCHER_URL) names Rancher. Not knowing the
// rollback images is an error: prune would guess them from creation times.
func deployedByEnv(ctx context.Context, env *cli.Env, inv *inventory.Inventory, targets []fleet.Target) (map[string]*fleet.Deployed, error) {
	out := map[string]*fleet.Deployed{}
	if !rancher.Named(inv, env.Getenv) {
		return out, nil
	}
	for _, t := range targets {
		e := inv.Env(t.Env)
		if _, done := out[t.Env]; done || e == nil {
			continue
		}
		c, project, err := rancher.Connect(inv, e.Name, env.Getenv, rancher.WithLogger(env.Logger))
		if errors.Is(err, rancher.ErrNotConfigured) {
			return nil, err // it names the environment and what to set
		}
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", e.Name, err)
		}
		d, err := fleet.RancherDeployed(ctx, c, project)
		if err != nil {
			return nil, fmt.Errorf("environment %s: read the services' images from Rancher: %w", e.Name, err)
		}
		out[t.Env] = d
	}
	return out, nil
}
