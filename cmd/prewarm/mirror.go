package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/inventory"
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
	fs.StringVar(&f.lock, "lock", "", "lock file (default release.lock.json beside -f, else in the current directory)")
	fs.BoolVar(&f.relock, "relock", false, "accept tags that moved since the lock was written")
	fs.StringSliceVar(&f.platforms, "platform", nil, "narrow multi-arch indexes to these platforms (os/arch[/variant], comma-separated)")
	fs.BoolVar(&f.foreign, "nondistributable", false, "copy non-distributable (foreign) layers too")
	fs.IntVar(&f.jobs, "jobs", 4, "images, blobs and per-registry transfers at once")
	fs.DurationVar(&f.stall, "stall-timeout", 2*time.Minute, "a registry that does not answer (or moves no bytes) within this counts as stalled; a region that stalls fails alone")
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
			if err := inventory.WriteLock(f.lockPath(), lock); err != nil {
				return cli.Failed(err)
			}
			show, stop := progressView(ctx, env)
			rep, err := registry.Mirror(ctx, lock, inv.Registries.Source, inv.Registries.Regions, append(opts, registry.WithProgress(show))...)
			stop()
			if rep == nil {
				return cli.Usage("%w", err)
			}
			if env.JSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				_ = enc.Encode(rep)
			} else {
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "IMAGE\tREGION\tSTATUS\tMOVED\tUPLOADED\tMOUNTED\tSKIPPED\tTIME\tERROR")
				for _, r := range rep.Results {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%.1fs\t%s\n", r.Image, r.Region, r.Status,
						human(r.BytesMoved), r.BlobsUploaded, r.BlobsMounted, r.BlobsSkipped, r.Seconds, r.Error)
				}
				_ = tw.Flush()
			}
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

// prepare loads the inventory and resolves the release (or reads the lock).
func (f *imageFlags) prepare(ctx context.Context, env *cli.Env, args []string) (*inventory.Inventory, *inventory.Lock, []registry.Option, error) {
	if f.jobs < 1 {
		return nil, nil, nil, cli.BadFlag(f.fs, "jobs", errors.New("want at least 1"))
	}
	inv, err := inventory.LoadAndValidate(env.ConfigPath(), inventory.CheckFiles(true))
	if err != nil {
		return nil, nil, nil, cli.Usage("%w", err)
	}
	if inv.Registries.Source.Address == "" || len(inv.Registries.Regions) == 0 {
		return nil, nil, nil, cli.Usage("%s: registries.source and at least one region are needed to mirror", env.ConfigPath())
	}
	opts := []registry.Option{registry.WithJobs(f.jobs), registry.WithPlatforms(f.platforms...),
		registry.WithNondistributable(f.foreign), registry.WithLogger(env.Logger), registry.WithGetenv(env.Getenv),
		registry.WithRelock(f.relock), registry.WithStallTimeout(f.stall)}
	prev, err := inventory.ReadLock(f.lockPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, cli.Usage("%w", err)
	}
	rel := &inventory.Release{Version: 1}
	if f.release != "" {
		if rel, err = inventory.LoadRelease(f.release); err != nil {
			return nil, nil, nil, cli.Usage("%w", err)
		}
	}
	for _, a := range args {
		rel.Images = append(rel.Images, inventory.ReleaseImage{Name: a, Ref: a})
	}
	if len(rel.Images) == 0 {
		if prev == nil {
			return nil, nil, nil, cli.Usage("no images: give -f release.yaml, IMAGE arguments or an existing --lock")
		}
		return inv, prev, opts, nil
	}
	lock, err := registry.Resolve(ctx, inv.Registries.Source, rel, append(opts, registry.WithPrevious(prev))...)
	if err != nil {
		return nil, nil, nil, resolveErr(err)
	}
	return inv, lock, opts, nil
}

// resolveErr is the exit status of a failed registry.Resolve: 2 for what
// the operator decides (a tag or the source moved since the lock, a bad
// option), 1 for a source registry that failed or lacks an image.
func resolveErr(err error) error {
	if errors.Is(err, registry.ErrTagMoved) || errors.Is(err, registry.ErrSourceChanged) || errors.Is(err, registry.ErrInvalidOption) {
		return cli.Usage("%w", err)
	}
	return cli.Failed(err)
}

// progressView shows per-region bars on a terminal, else a log line per
// region every 10 seconds. stop waits for the display to finish.
func progressView(ctx context.Context, env *cli.Env) (show func(registry.Progress), stop func()) {
	if env.IsTerminal && !env.JSON {
		return barView(ctx, env)
	}
	latest := map[string]registry.Progress{}
	updates := make(chan registry.Progress, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case p, ok := <-updates:
				if !ok {
					return
				}
				latest[p.Region] = p
			case <-tick.C:
				for _, p := range latest {
					env.Logger.Info("mirror progress", "region", p.Region, "done", human(p.Done), "total", human(p.Total))
				}
			}
		}
	}()
	return func(p registry.Progress) { updates <- p }, func() { close(updates); <-done }
}

// barView draws one bar per region (bytes, rate, ETA) on stderr.
func barView(ctx context.Context, env *cli.Env) (func(registry.Progress), func()) {
	p := mpb.NewWithContext(ctx, mpb.WithOutput(env.Stderr), mpb.WithWidth(40))
	bars := map[string]*mpb.Bar{}
	show := func(pr registry.Progress) { // calls come one at a time
		b := bars[pr.Region]
		if b == nil {
			b = p.AddBar(pr.Total,
				mpb.PrependDecorators(decor.Name(pr.Region, decor.WCSyncSpaceR), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
				mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
			bars[pr.Region] = b
		}
		b.SetTotal(pr.Total, false)
		b.SetCurrent(pr.Done)
	}
	stop := func() {
		for _, b := range bars {
			b.SetTotal(-1, true)
		}
		p.Wait()
	}
	return show, stop
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
