package main

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/registry"
)

// fleetFlags are the flags every host command shares.
type fleetFlags struct {
	release, lock      string
	envs, hosts        []string
	concurrency, limit int
	retries            int
	timeout            time.Duration
	stall              time.Duration
	fallback           bool
	noTargets          bool // the command picks its own host (seed --docker)
	resolves           bool // the command resolves the release and rewrites the lock (run)
	fs                 *pflag.FlagSet
}

func (f *fleetFlags) register(fs *pflag.FlagSet, pulling bool) {
	f.fs = fs
	fs.StringVarP(&f.release, "file", "f", "", cli.ReleaseUsage)
	fs.StringVar(&f.lock, "lock", "", cli.LockUsage)
	fs.StringSliceVar(&f.envs, "env", nil, "environments to work on (default: all)")
	fs.StringSliceVar(&f.hosts, "hosts", nil, "hosts to work on (default: all in the environments)")
	fs.IntVar(&f.concurrency, "concurrency", fleet.DefaultConcurrency, "hosts worked on at once; unset: the sum of the environments' pull.concurrency, if any")
	fs.DurationVar(&f.timeout, "timeout", fleet.DefaultTimeout, "timeout per host call and pull attempt; unset: the longest pull.timeout of the environments, if any")
	if pulling {
		fs.IntVar(&f.limit, "registry-limit", fleet.DefaultRegistryLimit, "concurrent pulls per registry (the inventory's maxConcurrency wins)")
		fs.IntVar(&f.retries, "retries", fleet.DefaultRetries, "retries of a failed pull, with backoff")
		fs.BoolVar(&f.fallback, "fallback-source", false, "pull from the source registry when a region lacks the digest")
		fs.DurationVar(&f.stall, "stall-timeout", registry.DefaultStallTimeout, "a region registry that does not answer within this fails alone; its hosts are not ready, without pulling")
	}
}

// loaded is what a host command works on.
type loaded struct {
	inv     *inventory.Inventory
	lock    *inventory.Lock
	lockAt  string
	targets []fleet.Target
	opts    []fleet.Option
}

func (f *fleetFlags) load(ctx context.Context, env *cli.Env, args []string, needLock bool) (*loaded, error) {
	if len(args) > 0 {
		return nil, cli.Usage("unexpected arguments %q", args)
	}
	if f.fs.Lookup("stall-timeout") != nil && f.stall <= 0 {
		return nil, cli.Usage("--stall-timeout %v: want more than 0", f.stall)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	inv, err := inventory.LoadFile(env.ConfigPath())
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	if err := inv.Validate(inventory.CheckFiles(true)); err != nil {
		return nil, cli.Usage("%v", err)
	}
	fl := &loaded{inv: inv, lockAt: f.lock}
	explicit := fl.lockAt != "" || f.release != ""
	if fl.lockAt == "" {
		fl.lockAt = inventory.LockPath(f.release, "")
	}
	if fl.lock, err = inventory.ReadLock(fl.lockAt); err != nil {
		fl.lock = nil
		if needLock || (explicit && !errors.Is(err, fs.ErrNotExist)) {
			switch {
			case !errors.Is(err, fs.ErrNotExist):
				return nil, cli.Usage("%v", err)
			case f.release == "":
				return nil, cli.Usage("%v (give the release with -f; prewarm mirror -f writes its lock)", err)
			}
			return nil, cli.Usage("%v; write it with `%s`", err, cli.MirrorCommand(env, f.release, f.lock, false))
		}
	}
	if fl.lock != nil && f.release != "" && !f.resolves {
		rel, err := inventory.LoadRelease(f.release)
		if err != nil {
			return nil, cli.Usage("%v", err)
		}
		if err := cli.CheckLock(env, inv, rel, fl.lock, fl.lockAt, f.lock); err != nil {
			return nil, err
		}
	}
	if !f.noTargets {
		if fl.targets, err = prewarm.Discover(ctx, inv, fleet.Selection{Envs: f.envs, Hosts: f.hosts}, env.Getenv, rancher.WithLogger(env.Logger)); err != nil {
			return nil, cli.Usage("%v", err)
		}
	}
	s := prewarm.Settings{RegistryLimit: f.limit, Retries: f.retries, FallbackSource: f.fallback}
	if f.fs.Changed("concurrency") {
		s.Concurrency = f.concurrency
	}
	if f.fs.Changed("timeout") {
		s.Timeout = f.timeout
	}
	fl.opts = append(prewarm.HostOptions(inv, f.envs, s, env.Logger, env.Getenv), fleet.WithPruneCommand(pruneCommand(env, f)), fleet.WithPruneCheck(pruneCheck(env, f, fl)))
	return fl, nil
}

// check refuses the flag values the options would, naming the flag.
func (f *fleetFlags) check() error {
	for _, c := range []struct {
		flag string
		bad  bool
		want string
	}{
		{"concurrency", f.concurrency < 1, "want at least 1"},
		{"timeout", f.timeout <= 0, "want more than 0"},
		{"registry-limit", f.limit < 1, "want at least 1"},
		{"retries", f.retries < 0, "want 0 or more"},
	} {
		if c.bad && f.fs.Lookup(c.flag) != nil {
			return cli.BadFlag(f.fs, c.flag, errors.New(c.want))
		}
	}
	return nil
}
