package main

import (
	"context"
	"errors"
	"io/fs"
	"sync"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/inventory"
)

// pruneCommand is the prune a full disk's error offers, with this run's
// inventory and release so that it runs as printed; without a release it
// names the image's repository (prune needs one or the other).
func pruneCommand(env *cli.Env, f *fleetFlags) fleet.PruneCommand {
	return func(envName, repository string) string {
		cmd := "prewarm prune -c " + cli.Quote(env.ConfigPath())
		switch {
		case f.release != "":
			cmd += " -f " + cli.Quote(f.release)
			if f.lock != "" {
				cmd += " --lock " + cli.Quote(f.lock)
			}
		case f.lock != "":
			cmd += " --lock " + cli.Quote(f.lock)
		default:
			cmd += " --repo " + cli.Quote(repository)
		}
		return cmd + " --env " + cli.Quote(envName)
	}
}

// pruneCheck runs the prune pruneCommand prints as a dry run on the one
// host that is full (that command plus --dry-run --hosts HOST, which it
// returns): the lock and repositories as that command loads them and
// prune's own selection (fleet.PruneAll with each environment's
// retention.keep and what Rancher deployed), so that a full disk's error
// says when that prune would free nothing. Each host and repository is
// checked once per run: a full host fails every image after the first the
// same way, and each check reads Rancher and the host again.
func pruneCheck(env *cli.Env, f *fleetFlags, fl *loaded) fleet.PruneCheck {
	type answer struct {
		once sync.Once
		rep  *fleet.PruneReport
		cmd  string
		err  error
	}
	var mu sync.Mutex
	answers := map[string]*answer{}
	check := pruneCheckOnce(env, f, fl)
	return func(ctx context.Context, host fleet.Target, repository string) (*fleet.PruneReport, string, error) {
		mu.Lock()
		key := host.Env + "\x00" + host.Name + "\x00" + repository
		a := answers[key]
		if a == nil {
			a = &answer{}
			answers[key] = a
		}
		mu.Unlock()
		a.once.Do(func() { a.rep, a.cmd, a.err = check(ctx, host, repository) })
		return a.rep, a.cmd, a.err
	}
}

// pruneCheckOnce is pruneCheck's dry run, every time it is called.
func pruneCheckOnce(env *cli.Env, f *fleetFlags, fl *loaded) fleet.PruneCheck {
	return func(ctx context.Context, host fleet.Target, repository string) (*fleet.PruneReport, string, error) {
		cmd := pruneCommand(env, f)(host.Env, repository) + " --dry-run --hosts " + cli.Quote(host.Name)
		lock, err := inventory.ReadLock(fl.lockAt) // the run may have written it since load
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, "", err
			}
			lock = nil
		}
		var repos []string
		if f.release == "" && f.lock == "" { // the command names --repo
			repos = []string{repository}
		}
		deployed, err := deployedByEnv(ctx, env, fl.inv, []fleet.Target{host})
		if err != nil {
			return nil, "", err
		}
		reps, err := fleet.PruneAll(ctx, []fleet.Target{host}, pruneRepos(repos, lock), pruneKeep(fl.inv, 0, false), lock, true, deployed, fl.opts...)
		if err != nil || len(reps) != 1 || reps[0] == nil {
			return nil, "", errors.Join(err, errors.New("no report"))
		}
		return reps[0], cmd, nil
	}
}
