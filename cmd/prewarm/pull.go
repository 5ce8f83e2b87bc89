package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/registry"
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
			gate := regionGate(fl.inv, env, f.stall)
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

// regionGate checks each region registry once, before its hosts pull: a
// region that does not answer within stall fails its hosts at once.
func regionGate(inv *inventory.Inventory, env *cli.Env, stall time.Duration) fleet.RegionGate {
	var mu sync.Mutex
	checks := map[string]func() error{}
	return func(ctx context.Context, region string) error {
		mu.Lock()
		check := checks[region]
		if check == nil {
			check = sync.OnceValue(func() error {
				return registry.Reachable(ctx, region, inv.Registries.Regions[region],
					registry.WithStallTimeout(stall), registry.WithLogger(env.Logger), registry.WithGetenv(env.Getenv))
			})
			checks[region] = check
		}
		mu.Unlock()
		return check()
	}
}

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
	fs.StringVarP(&f.release, "file", "f", "", "release file; its lock is release.lock.json beside it")
	fs.StringVar(&f.lock, "lock", "", "lock file (default release.lock.json beside -f, else in the current directory)")
	fs.StringSliceVar(&f.envs, "env", nil, "environments to work on (default: all)")
	fs.StringSliceVar(&f.hosts, "hosts", nil, "hosts to work on (default: all in the environments)")
	fs.IntVar(&f.concurrency, "concurrency", 32, "hosts worked on at once; unset: the sum of the environments' pull.concurrency, if any")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Minute, "timeout per host call and pull attempt; unset: the longest pull.timeout of the environments, if any")
	if pulling {
		fs.IntVar(&f.limit, "registry-limit", 8, "concurrent pulls per registry (the inventory's maxConcurrency wins)")
		fs.IntVar(&f.retries, "retries", 3, "retries of a failed pull, with backoff")
		fs.BoolVar(&f.fallback, "fallback-source", false, "pull from the source registry when a region lacks the digest")
		fs.DurationVar(&f.stall, "stall-timeout", 2*time.Minute, "a region registry that does not answer within this fails alone; its hosts are not ready, without pulling")
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

// lockFileFor is where a release's lock lives, as prewarm mirror writes it:
// release.lock.json beside the release file, else in the current directory.
func lockFileFor(release string) string {
	return inventory.LockPath(release, "")
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
		fl.lockAt = lockFileFor(f.release)
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
		clientFor := func(e *inventory.Environment) (fleet.RancherHosts, string, error) {
			return rancher.Connect(inv, e.Name, env.Getenv)
		}
		if fl.targets, err = fleet.Discover(ctx, inv, fleet.Selection{Envs: f.envs, Hosts: f.hosts}, clientFor); err != nil {
			return nil, cli.Usage("%v", err)
		}
	}
	// The inventory's pull settings are per environment: the overall bound
	// is their sum over the selected environments, the timeout their longest.
	conc, timeout := f.concurrency, f.timeout
	envConc, envTimeout := fleet.PullSettings(inv, f.envs)
	if !f.fs.Changed("concurrency") && envConc > 0 {
		conc = envConc
	}
	if !f.fs.Changed("timeout") && envTimeout > 0 {
		timeout = envTimeout
	}
	fl.opts = []fleet.Option{
		fleet.WithLogger(env.Logger),
		fleet.WithAuth(fleet.InventoryAuth(inv, env.Getenv)),
		fleet.WithConcurrency(conc),
		fleet.WithTimeout(timeout),
		fleet.WithRegistryLimits(fleet.RegistryLimits(inv)),
		fleet.WithPruneCommand(pruneCommand(env, f)),
	}
	if f.limit > 0 {
		fl.opts = append(fl.opts, fleet.WithRegistryLimit(f.limit), fleet.WithRetries(f.retries))
	}
	if f.fallback {
		fl.opts = append(fl.opts, fleet.WithFallbackSource(inv.Registries.Source.Address))
	}
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
