package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
	"github.com/drover-dev/drover/rollout"
)

// scopeFlags select environments and services (and the release, if any).
type scopeFlags struct {
	release, lock string
	envs          []string
	services      []string
}

func (f *scopeFlags) register(fs *pflag.FlagSet, overrides bool) {
	fs.StringVarP(&f.release, "file", "f", "", "release file; its lock is release.lock.json beside it")
	fs.StringVar(&f.lock, "lock", "", "lock file (default release.lock.json beside -f)")
	fs.StringSliceVar(&f.envs, "env", nil, "environments (default: all)")
	if overrides {
		fs.StringArrayVar(&f.services, "service", nil, "one-off target stack/service=image (repeatable; added to or replacing the release's)")
	} else {
		fs.StringArrayVar(&f.services, "service", nil, "service stack/service (repeatable; default: the release's, else all relevant)")
	}
}

// world is what a command works on.
type world struct {
	inv     *inventory.Inventory
	targets []rollout.EnvTarget
	conns   *rollout.Connections
	hosts   *rollout.HostPresence
}

// load reads the inventory (and release + lock) and resolves targets: with
// images for plan/apply (images=true), by name only otherwise.
func (f *scopeFlags) load(env *cli.Env, args []string, images bool) (*world, error) {
	if len(args) > 0 {
		return nil, cli.Usage("unexpected arguments %q", args)
	}
	inv, err := inventory.LoadFile(env.ConfigPath())
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	if err := inv.Validate(); err != nil {
		return nil, cli.Usage("%v", err)
	}
	var rel *inventory.Release
	var lock *inventory.Lock
	if f.release != "" {
		if rel, err = inventory.LoadRelease(f.release); err != nil {
			return nil, cli.Usage("%v", err)
		}
		lockAt := f.lock
		if lockAt == "" {
			lockAt = filepath.Join(filepath.Dir(f.release), "release.lock.json")
		}
		if lock, err = inventory.ReadLock(lockAt); err != nil {
			return nil, cli.Usage("%v (prewarm mirror -f %s writes it)", err, f.release)
		}
	}
	w := &world{inv: inv, conns: rollout.NewConnections(inv, env.Getenv),
		hosts: rollout.NewHostPresence(inv, prewarm.WithLogger(env.Logger), prewarm.WithAuth(prewarm.InventoryAuth(inv, env.Getenv)))}
	if images {
		var ovs []rollout.Override
		for _, s := range f.services {
			o, err := rollout.ParseOverride(s)
			if err != nil {
				return nil, cli.Usage("%v", err)
			}
			ovs = append(ovs, o)
		}
		if rel == nil && len(ovs) == 0 {
			return nil, cli.Usage("give a release (-f release.yaml) or --service stack/service=image")
		}
		w.targets, err = rollout.Targets(inv, rel, lock, f.envs, ovs)
	} else {
		w.targets, err = rollout.Scope(inv, f.envs, f.services)
		if err == nil && rel != nil && len(f.services) == 0 {
			w.targets = withReleaseServices(w.targets, rel)
		}
	}
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	if err := w.conns.Check(envNames(w.targets)); err != nil {
		return nil, cli.Usage("%v", err)
	}
	return w, nil
}

func envNames(ts []rollout.EnvTarget) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// withReleaseServices names, per environment, the release's services.
func withReleaseServices(ts []rollout.EnvTarget, rel *inventory.Release) []rollout.EnvTarget {
	for i := range ts {
		for _, s := range rel.ServicesFor(ts[i].Name) {
			ts[i].Services = append(ts[i].Services, rollout.ServiceTarget{Service: s.Service})
		}
	}
	return ts
}

// output writes v as JSON (--json) or as a table to stdout.
func output(env *cli.Env, v any, table func(io.Writer) error) error {
	if env.JSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return table(env.Stdout)
}

// finish prints a run's report and maps its outcome to the exit code:
// 0 done, 1 failed (put back), 3 needs a human.
func finish(env *cli.Env, rep *rollout.Report, err error) error {
	if werr := output(env, rep, rep.WriteTable); werr != nil {
		return werr
	}
	if err == nil {
		return nil
	}
	if rep.NeedsHuman() {
		return cli.NeedsHuman(fmt.Errorf("%w\nrun: %s", err, strings.Join(rep.Commands(), "\n     ")))
	}
	return cli.Failed(err)
}
