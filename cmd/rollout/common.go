package main

import (
	"errors"
	"io"
	"io/fs"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// scopeFlags select environments and services (and the release, if any).
type scopeFlags struct {
	release, lock string
	envs          []string
	services      []string
	fs            *pflag.FlagSet // the command's flags, for the ones a printed rerun repeats
}

func (f *scopeFlags) register(fs *pflag.FlagSet, overrides bool) {
	f.fs = fs
	fs.StringVarP(&f.release, "file", "f", "", cli.ReleaseUsage)
	fs.StringVar(&f.lock, "lock", "", cli.LockUsage)
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
	conns   *adapt.Connections
	hosts   *adapt.HostPresence
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
		lockAt := inventory.LockPath(f.release, f.lock)
		if lock, err = inventory.ReadLock(lockAt); errors.Is(err, fs.ErrNotExist) {
			return nil, cli.Usage("%v; write it with `%s`", err, cli.MirrorCommand(env, f.release, f.lock, false))
		} else if err != nil {
			return nil, cli.Usage("%v", err)
		}
		if err := cli.CheckLock(env, inv, rel, lock, lockAt, f.lock); err != nil {
			return nil, err
		}
	}
	conns := adapt.NewConnections(inv, env.Getenv)
	w := &world{inv: inv, conns: conns,
		hosts: adapt.NewHostPresence(inv, fleet.WithLogger(env.Logger), fleet.WithAuth(fleet.InventoryAuth(inv, env.Getenv))).ThroughRancher(conns.RancherHosts).UseLock(lock)}
	w.conns.UseLogger(env.Logger)
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
		w.targets, err = rollout.ScopeRelease(inv, rel, lock, f.envs, f.services)
	}
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	if err := w.conns.Check(rollout.EnvNames(w.targets)); err != nil {
		return nil, cli.Usage("%v", err)
	}
	return w, nil
}

// show writes v as JSON (--json) or as a table to stdout.
func show(env *cli.Env, v any, table func(io.Writer) error) error {
	return output.Print(env.Stdout, env.JSON, v, table)
}
