package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/inventory"
)

// demoFlags size the story; the defaults are the `make demo` story.
type demoFlags struct {
	regions, envs, hosts, services, layers, base int
	imageSize, hostLink                          string
	healthDelay, soak, upgradeTimeout            time.Duration
	batchInterval                                int
	bin                                          string
	full, keep                                   bool
}

func demoCmd() *cli.Command {
	f := &demoFlags{}
	return &cli.Command{
		Name:        "demo",
		NoInventory: true,
		Summary:     "run the whole story (prewarm, rollout, a failed release, rollback, with and without prewarm) on a lab",
		Usage: `lab demo [flags]

Starts a lab in this process (regions, environments of simulated Docker
hosts, Rancher services running app:1.0) and runs the real prewarm and
rollout binaries against it (found beside this executable, or in --bin),
printing every command line, its output and its timing:

  1. prewarm run app:1.1: mirror, then pull onto every host (only the new layers move)
  2. rollout apply app:1.1 in waves: fast, the hosts hold the image
  3. rollout rollback: back to app:1.0 (previousLaunchConfig)
  4. a failed release: app:1.2 never turns healthy; rollout apply rolls
     the first wave back, exits 1 and leaves the later waves untouched
  5. app:1.3 without prewarm (rollout apply --prewarm: each environment's
     hosts pull in the deploy window), timed against step 2

The hosts.yaml, env file (the lab's Rancher keys, never printed) and
release files live in a temporary directory, removed at the end unless
--keep. Exit 0 when every step behaved as the story says, 1 otherwise.`,
		Flags: func(fs *pflag.FlagSet) {
			fs.IntVar(&f.regions, "regions", 3, "regional registries")
			fs.IntVar(&f.envs, "envs", 5, "environments (dev, qa, demo, then dmz-<region>; waves 0, 1, 2, 3...)")
			fs.IntVar(&f.hosts, "hosts-per-env", 3, "simulated Docker hosts per environment")
			fs.IntVar(&f.services, "services", 4, "Rancher services per environment (scale: one container per host)")
			fs.StringVar(&f.imageSize, "image-size", "1GiB", "size of each image")
			fs.IntVar(&f.layers, "layers", 8, "layers per image")
			fs.IntVar(&f.base, "base", 6, "leading layers the app tags share")
			fs.StringVar(&f.hostLink, "host-link", "100MB/s,2ms", "every host's link to its registry (none: unshaped)")
			fs.DurationVar(&f.healthDelay, "health-delay", 300*time.Millisecond, "how long a new container is initializing")
			fs.IntVar(&f.batchInterval, "batch-interval", 200, "strategy.intervalMillis between batches")
			fs.DurationVar(&f.soak, "soak", 2*time.Second, "rollout --soak")
			fs.DurationVar(&f.upgradeTimeout, "upgrade-timeout", 10*time.Second, "rollout --upgrade-timeout (how soon the failed release is declared failed)")
			fs.StringVar(&f.bin, "bin", "", "directory holding the prewarm and rollout binaries (default: beside this executable)")
			fs.BoolVar(&f.full, "full", false, "print the commands' whole tables (default: one row per environment)")
			fs.BoolVar(&f.keep, "keep", false, "keep the temporary directory (hosts.yaml, env file, releases, logs)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error { return runDemo(ctx, env, f, args) },
	}
}

func (f *demoFlags) config() (lab.Config, error) {
	size, err := lab.ParseBytes(f.imageSize)
	if err != nil {
		return lab.Config{}, cli.Usage("--image-size: %v", err)
	}
	cfg := lab.Config{
		Regions: f.regions, Envs: f.envs, HostsPerEnv: f.hosts, Services: f.services,
		Images: []string{"app:1.0", "app:1.1", "app:1.2", "app:1.3"}, ServiceImage: "app:1.0",
		ImageSize: size, Layers: f.layers, Base: f.base, HealthDelay: f.healthDelay,
		Strategy: inventory.Strategy{BatchSize: 1, IntervalMillis: f.batchInterval}, Concurrency: f.services,
	}
	if f.regions < 1 || f.envs < 1 || f.hosts < 1 || f.services < 1 || f.layers < 1 || size < 1 || f.base < 0 || f.base >= f.layers {
		return cfg, cli.Usage("--regions, --envs, --hosts-per-env, --services, --layers and --image-size must be at least 1, --base below --layers")
	}
	if f.healthDelay <= 0 || f.batchInterval < 100 || f.upgradeTimeout <= 0 || f.soak < 0 {
		return cfg, cli.Usage("--health-delay and --upgrade-timeout must be positive, --batch-interval at least 100")
	}
	if err := cfg.SetLink("hosts:" + f.hostLink); err != nil {
		return cfg, cli.Usage("--host-link: %v", err)
	}
	return cfg, nil
}

func runDemo(ctx context.Context, env *cli.Env, f *demoFlags, args []string) error {
	if len(args) > 0 {
		return cli.Usage("lab demo takes no arguments, got %q", args)
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	bin := f.bin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return cli.Usage("find the prewarm and rollout binaries: %v (pass --bin DIR)", err)
		}
		bin = filepath.Dir(exe)
	}
	for _, tool := range []string{"prewarm", "rollout"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			return cli.Usage("no %s binary in %s (make demo builds bin/; or pass --bin DIR): %v", tool, bin, err)
		}
	}
	dir, err := os.MkdirTemp("", "drover-demo-")
	if err != nil {
		return err
	}
	if f.keep {
		defer fmt.Fprintf(env.Stdout, "\nkept %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	cfg.Logger = env.Logger
	s := &story{f: f, cfg: cfg, out: env.Stdout, dir: dir, bin: bin}
	return s.run(ctx)
}
