package prewarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/filelock"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

// Job is one nightly run: the release, its lock, and the hosts to prewarm.
type Job struct {
	Inventory *inventory.Inventory
	// Release is the release file; it is resolved at the inventory's
	// source every run.
	Release string
	// LockFile is where the lock is written (inventory.LockPath), and
	// Previous the lock it held before, nil for none.
	LockFile string
	Previous *inventory.Lock
	// Relock accepts tags that moved since Previous; without it a moved
	// tag stops the run before it changes anything.
	Relock bool
	// Hosts are the hosts to pull onto (Discover), with Fleet the options
	// of the pull (HostOptions, plus any progress).
	Hosts []fleet.Target
	Fleet []fleet.Option
	// StallTimeout is how long a registry may go without answering (or
	// moving bytes) before its region fails alone. Zero takes the
	// registry package's default.
	StallTimeout time.Duration
	// Logger receives the mirror's logs (the default discards) and Getenv
	// finds registry credentials (the default is os.Getenv).
	Logger *slog.Logger
	Getenv func(string) string
}

// Nightly is `prewarm run`: it resolves the release at the source, writes
// the lock, mirrors to the regions of the job's hosts and pulls onto the
// hosts, each region's as soon as that region holds the release (Run). A
// nil report means it stopped before mirroring or pulling anything; the
// error then says why and carries its exit code (internal/cli): 2 for what
// the operator decides (a moved tag, a bad release file or option), 1 for a
// registry that failed. With a report, the error joins the mirror's and the
// pull's (Run), and the report names what is not ready.
func Nightly(ctx context.Context, job Job) (*Report, error) {
	if job.Logger == nil {
		job.Logger = slog.New(slog.DiscardHandler)
	}
	if job.Getenv == nil {
		job.Getenv = os.Getenv
	}
	rel, err := inventory.LoadRelease(job.Release)
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	inv := job.Inventory
	ropts := []registry.Option{registry.WithLogger(job.Logger), registry.WithGetenv(job.Getenv), registry.WithPrevious(job.Previous), registry.WithRelock(job.Relock)}
	lock, err := registry.Resolve(ctx, inv.Registries.Source, rel, ropts...)
	if err != nil {
		return nil, resolveErr(fmt.Errorf("resolve %s: %w", job.Release, err))
	}
	if err := inventory.WriteLock(job.LockFile, lock); err != nil {
		return nil, cli.Failed(err)
	}
	regions := map[string]inventory.Registry{}
	for _, t := range job.Hosts {
		regions[t.Region] = inv.Registries.Regions[t.Region]
	}
	outside := outsideFetches(ctx, job, lock, ropts[:2])
	mirror := func(ctx context.Context, ready func(string, error)) (*registry.Report, error) {
		// Only an unreachable region fails its hosts before they try; one
		// that lacks an image still has its hosts pull the others.
		done := func(region string, err error) {
			if !errors.Is(err, registry.ErrRegionUnreachable) {
				err = nil
			}
			ready(region, err)
		}
		mopts := append(ropts[:2:2], registry.WithRegionDone(done))
		if job.StallTimeout > 0 {
			mopts = append(mopts, registry.WithStallTimeout(job.StallTimeout))
		}
		return registry.Mirror(ctx, lock, inv.Registries.Source, regions, mopts...)
	}
	rr, err := Run(ctx, job.Hosts, lock, mirror, job.Fleet...)
	if rr == nil {
		return nil, cli.Usage("%v", err)
	}
	rr.Outside = outside
	return rr, err
}

// outsideFetches is prewarm plan's list of the job's hosts that will
// download foreign layers from the vendor's URLs (OutsideFetches), each
// environment's logged at WARN for the cron's log. Listed hosts the job
// does not pull onto (--hosts) are left out. A source that cannot say
// which layers are foreign is logged too; the run goes on.
func outsideFetches(ctx context.Context, job Job, lock *inventory.Lock, ropts []registry.Option) []OutsideFetch {
	var envs []string
	selected := map[string]bool{}
	for _, t := range job.Hosts {
		if !slices.Contains(envs, t.Env) {
			envs = append(envs, t.Env)
		}
		selected[t.Env+"/"+t.Name] = true
	}
	if len(envs) == 0 || !FetchesOutside(job.Inventory, envs) {
		return nil
	}
	layers, err := registry.ForeignLayers(ctx, lock, job.Inventory.Registries.Source, ropts...)
	if err != nil {
		job.Logger.Warn("cannot tell which hosts will download foreign layers from outside their region", "err", err)
	}
	var out []OutsideFetch
	for _, o := range OutsideFetches(job.Inventory, envs, layers) {
		if !o.Discovered {
			o.Hosts = slices.DeleteFunc(slices.Clone(o.Hosts), func(h string) bool { return !selected[o.Env+"/"+h] })
			if len(o.Hosts) == 0 {
				continue
			}
		}
		job.Logger.Warn("hosts will download foreign layers from outside their region (set registries.regions.REGION.foreignLayers: mirror where they cannot reach these URLs)",
			"env", o.Env, "region", o.Region, "hosts", o.HostList(), "image", o.Image, "layers", o.Layers,
			"size", output.HumanBytes(o.Bytes), "from", strings.Join(o.From, ","))
		out = append(out, o)
	}
	return out
}

// LockRun keeps prewarm run (the nightly job, from cron) from overlapping
// itself: a file lock beside the release's lock file (lockFile), held for
// the whole run; Unlock it when the run is over. A second run gets an
// error that exits 4 naming the holder's pid, having done nothing (not
// even written its report, which would replace the running one's).
func LockRun(release, lockFile string) (*filelock.Lock, error) {
	l, err := filelock.TryLock(lockFile + ".run.lock")
	if errors.Is(err, filelock.ErrLocked) {
		return nil, cli.Busy(fmt.Errorf("another prewarm run of %s is still going: %w; nothing was done", release, err))
	}
	if err != nil {
		return nil, cli.Failed(err)
	}
	return l, nil
}
