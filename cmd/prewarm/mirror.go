package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
	"github.com/drover-dev/drover/registry"
)

// imageFlags are what mirror and plan share: which images, and how to lock them.
type imageFlags struct {
	release, lock        string
	platforms            []string
	relock, foreign, dry bool
	jobs                 int
	stall                time.Duration
	fs                   *pflag.FlagSet
}

func (f *imageFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVarP(&f.release, "file", "f", "", "release file (images, services)")
	fs.StringVar(&f.lock, "lock", "", cli.LockUsage)
	fs.BoolVar(&f.relock, "relock", false, "accept tags that moved since the lock was written")
	fs.StringSliceVar(&f.platforms, "platform", nil, "narrow multi-arch indexes to these platforms (os/arch[/variant][:os.version], comma-separated; a Windows build such as windows/amd64:10.0.17763 keeps its every revision)")
	fs.BoolVar(&f.foreign, "nondistributable", false, "copy non-distributable (foreign) layers too")
	fs.IntVar(&f.jobs, "jobs", registry.DefaultJobs, "images, blobs and per-registry transfers at once")
	fs.DurationVar(&f.stall, "stall-timeout", registry.DefaultStallTimeout, "a registry that does not answer (or moves no bytes) within this counts as stalled; a region that stalls fails alone")
}

func mirrorCmd() *cli.Command {
	f := &imageFlags{}
	return &cli.Command{
		Name:    "mirror",
		Summary: "copy release images to every regional registry, digest-exact, moving only what is missing",
		Usage: "prewarm mirror [-f release.yaml] [IMAGE...] [flags]\n\n" +
			"Tags are resolved to digests once, at registries.source, and written to the lock file;\n" +
			"every region then receives exactly those digests. With neither -f nor IMAGE the lock\n" +
			"file is mirrored as it is. IMAGE is a source reference such as team/app:1.4.",
		Flags: func(fs *pflag.FlagSet) {
			f.register(fs)
			fs.BoolVar(&f.dry, "dry-run", false, "show what would move (like prewarm plan), write nothing")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if f.dry {
				return runPlan(ctx, env, f, args)
			}
			inv, lock, opts, err := f.prepare(ctx, env, args)
			if err != nil {
				return err
			}
			show, stop := regionBars(ctx, env)
			rep, err := prewarm.Mirror(ctx, inv, lock, f.lockPath(), append(opts, show)...)
			stop()
			if rep == nil {
				return err
			}
			_ = output.Print(env.Stdout, env.JSON, rep, rep.WriteTable)
			if n := len(rep.Failed()); n > 0 {
				return cli.Failed(fmt.Errorf("%d of %d image/region copies failed (rerun to resume): %w", n, len(rep.Results), err))
			}
			return nil
		},
	}
}

func (f *imageFlags) lockPath() string {
	return inventory.LockPath(f.release, f.lock)
}

// prepare loads the inventory and resolves the images (prewarm.Resolve).
func (f *imageFlags) prepare(ctx context.Context, env *cli.Env, args []string) (*inventory.Inventory, *inventory.Lock, []registry.Option, error) {
	if f.jobs < 1 {
		return nil, nil, nil, cli.BadFlag(f.fs, "jobs", errors.New("want at least 1"))
	}
	if err := registry.CheckPlatforms(f.platforms...); err != nil {
		return nil, nil, nil, cli.Usage("--%v", err) // --platform "linux": want os/arch[/variant][:os.version]
	}
	inv, err := inventory.LoadAndValidate(env.ConfigPath(), inventory.CheckFiles(true))
	if err != nil {
		return nil, nil, nil, cli.Usage("%w", err)
	}
	opts := []registry.Option{registry.WithJobs(f.jobs), registry.WithPlatforms(f.platforms...),
		registry.WithNondistributable(f.foreign), registry.WithLogger(env.Logger), registry.WithGetenv(env.Getenv),
		registry.WithRelock(f.relock), registry.WithStallTimeout(f.stall)}
	lock, err := prewarm.Resolve(ctx, inv, prewarm.Images{Release: f.release, Refs: args, LockFile: f.lockPath()}, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	return inv, lock, opts, nil
}
