package main

import (
	"context"
	"errors"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab/demo"
)

func demoCmd() *cli.Command {
	o := demo.DefaultOptions()
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
			fs.IntVar(&o.Regions, "regions", o.Regions, "regional registries")
			fs.IntVar(&o.Envs, "envs", o.Envs, "environments (dev, qa, demo, then dmz-<region>; waves 0, 1, 2, 3...)")
			fs.IntVar(&o.HostsPerEnv, "hosts-per-env", o.HostsPerEnv, "simulated Docker hosts per environment")
			fs.IntVar(&o.Services, "services", o.Services, "Rancher services per environment (scale: one container per host)")
			fs.StringVar(&o.ImageSize, "image-size", o.ImageSize, "size of each image")
			fs.IntVar(&o.Layers, "layers", o.Layers, "layers per image")
			fs.IntVar(&o.Base, "base", o.Base, "leading layers the app tags share")
			fs.StringVar(&o.HostLink, "host-link", o.HostLink, "every host's link to its registry (none: unshaped)")
			fs.DurationVar(&o.HealthDelay, "health-delay", o.HealthDelay, "how long a new container is initializing")
			fs.IntVar(&o.BatchInterval, "batch-interval", o.BatchInterval, "strategy.intervalMillis between batches")
			fs.DurationVar(&o.Soak, "soak", o.Soak, "rollout --soak")
			fs.DurationVar(&o.UpgradeTimeout, "upgrade-timeout", o.UpgradeTimeout, "rollout --upgrade-timeout (how soon the failed release is declared failed)")
			fs.StringVar(&o.Bin, "bin", "", "directory holding the prewarm and rollout binaries (default: beside this executable)")
			fs.BoolVar(&o.Full, "full", false, "print the commands' whole tables (default: one row per environment)")
			fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (hosts.yaml, env file, releases, logs)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usage("lab demo takes no arguments, got %q", args)
			}
			o.Logger = env.Logger
			err := demo.Run(ctx, o, env.Stdout)
			if errors.Is(err, demo.ErrUsage) {
				return &cli.ExitError{Code: cli.ExitUsage, Err: err}
			}
			return cli.Failed(err)
		},
	}
}
