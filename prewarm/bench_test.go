package prewarm

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/registry"
)

// regionsCase is one shape of BenchmarkPrewarmRegions: regions x hosts,
// links in bytes per second, and optionally one region on a slower link.
type regionsCase struct {
	regions, hosts       int
	source, region, host int64
	slowRegion           int64 // the last region's link when > 0
}

// limit is the link model's time for one region: the image once through
// the source link (every region receives it at once, fanned out from one
// read), then every host of the region pulling it, each at its own link
// or its share of the region's link, whichever is less.
func (c regionsCase) limit(size int64, regionLink int64) time.Duration {
	perRegion := c.hosts / c.regions
	host := min(c.host, regionLink/int64(perRegion))
	return seconds(float64(size)/float64(c.source) + float64(size)/float64(host))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// BenchmarkPrewarmRegions is `prewarm run`'s mirror-then-pull (Run with
// registry.Mirror) of one 256 MiB image in 8 layers, as regions and hosts
// grow, against the link model: source 25 MB/s, each region's registry
// 100 MB/s shared by its hosts, each host 25 MB/s. The limit of a region
// is size/source + size/min(host, region/hostsPerRegion); limit-s is the
// slowest region's and ratio is wall/limit. With a slow region, fast-s is
// when the other regions' last host was ready and fast-ratio that against
// their own limit: a slow region must not hold them back. cpu-s is this
// process's CPU (Drover, the simulated hosts and the registries), cores
// the CPU it would take to keep up (cpu-s/wall) against GOMAXPROCS, and
// hash-s the part of cpu-s that only hashes: every simulated host and
// every regional registry verifies every byte it receives (sha256), as
// does the mirror once, at the rate measured here before the run. runq-s
// is how long this process's threads were ready to run but waited for a
// core (Linux schedstat, summed over threads): time the machine, busy
// with other work, took from the run.
func BenchmarkPrewarmRegions(b *testing.B) {
	size := envBytes("DROVER_BENCH_IMAGE_SIZE", 256<<20)
	const mb = 1_000_000
	for _, c := range []regionsCase{
		{regions: 3, hosts: 12, source: 25 * mb, region: 100 * mb, host: 25 * mb},
		{regions: 6, hosts: 60, source: 25 * mb, region: 100 * mb, host: 25 * mb},
		{regions: 3, hosts: 12, source: 25 * mb, region: 100 * mb, host: 25 * mb, slowRegion: 25 * mb},
	} {
		name := fmt.Sprintf("regions=%d/hosts=%d", c.regions, c.hosts)
		if c.slowRegion > 0 {
			name += "/slow-region"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				benchRegions(b, c, size)
			}
		})
	}
}

func benchRegions(b *testing.B, c regionsCase, size int64) {
	b.StopTimer()
	cfg := lab.Config{
		Regions: c.regions, Envs: c.regions, HostsPerEnv: c.hosts / c.regions,
		Images: []string{"big:1.0"}, ImageSize: size, Layers: 8,
		SourceLink: netem.Link{BytesPerSec: c.source},
		RegionLink: netem.Link{BytesPerSec: c.region},
		HostLink:   netem.Link{BytesPerSec: c.host},
	}
	slow := ""
	if c.slowRegion > 0 {
		slow = regionName(c.regions - 1)
		cfg.RegionLinks = map[string]netem.Link{slow: {BytesPerSec: c.slowRegion}}
	}
	l := labtest.New(b, cfg)
	defer l.Close()
	inv := l.Inventory()
	hosts, err := fleet.Targets(inv, fleet.Selection{})
	if err != nil {
		b.Fatal(err)
	}
	if len(hosts) != c.hosts {
		b.Fatalf("lab has %d hosts, want %d", len(hosts), c.hosts)
	}
	if slow != "" && l.RegionNames()[c.regions-1] != slow {
		b.Fatalf("lab regions %v: the slow region %s is not the last", l.RegionNames(), slow)
	}
	lock := labtest.Lock(l)
	hashRate := sha256Rate()

	var mu sync.Mutex
	var start time.Time
	readyAt := map[string]time.Duration{}
	doneAt := map[string]time.Duration{}
	regionOf := map[string]string{}
	for _, h := range hosts {
		regionOf[h.Name] = h.Region
	}
	progress := func(ev fleet.Progress) {
		if ev.Phase == "done" || ev.Phase == "present" {
			mu.Lock()
			doneAt[ev.Host] = time.Since(start)
			mu.Unlock()
		}
	}
	mirror := func(ctx context.Context, ready func(string, error)) (*registry.Report, error) {
		return registry.Mirror(ctx, lock, inv.Registries.Source, inv.Registries.Regions, registry.WithRegionDone(func(region string, err error) {
			mu.Lock()
			readyAt[region] = time.Since(start)
			mu.Unlock()
			ready(region, err)
		}))
	}
	perRegion := c.hosts / c.regions
	opts := []fleet.Option{fleet.WithConcurrency(c.hosts), fleet.WithRegistryLimit(perRegion), fleet.WithProgress(progress)}

	runtime.GC()
	b.StartTimer()
	cpu0, wait0 := cpuTime(), runQueueWait()
	start = time.Now()
	rr, err := Run(b.Context(), hosts, lock, mirror, opts...)
	wall := time.Since(start)
	cpu, wait := cpuTime()-cpu0, runQueueWait()-wait0
	b.StopTimer()
	if err != nil {
		b.Fatalf("run: %v", err)
	}
	if !rr.OK() {
		b.Fatalf("run not ok: not ready %v", rr.NotReady)
	}

	limit := c.limit(size, c.region)
	if c.slowRegion > 0 {
		limit = max(limit, c.limit(size, c.slowRegion))
	}
	var fast, firstReady, lastReady time.Duration
	firstReady = wall
	for _, r := range l.RegionNames() {
		firstReady, lastReady = min(firstReady, readyAt[r]), max(lastReady, readyAt[r])
	}
	for h, t := range doneAt {
		if regionOf[h] != slow {
			fast = max(fast, t)
		}
	}
	hashed := float64(size) * float64(1+c.regions+c.hosts)
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(limit.Seconds(), "limit-s")
	b.ReportMetric(wall.Seconds()/limit.Seconds(), "ratio")
	b.ReportMetric(firstReady.Seconds(), "first-region-s")
	b.ReportMetric(lastReady.Seconds(), "last-region-s")
	b.ReportMetric(float64(size)/float64(c.source), "mirror-limit-s")
	if c.slowRegion > 0 {
		fastLimit := c.limit(size, c.region)
		b.ReportMetric(fast.Seconds(), "fast-s")
		b.ReportMetric(fast.Seconds()/fastLimit.Seconds(), "fast-ratio")
	}
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
	b.ReportMetric(hashed/hashRate, "hash-s")
	b.ReportMetric(wait.Seconds(), "runq-s")
	b.ReportMetric(float64(rr.Pull.Bytes())/(1<<20), "hosts-MiB")
}

// regionName is the lab's name of region i (lab.Config.Regions).
func regionName(i int) string {
	names := []string{"eu-west", "us-east", "ap-south", "eu-north", "us-west", "ap-east", "sa-east", "af-south"}
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("region-%d", i+1)
}

// sha256Rate is this machine's sha256 throughput on one core, in bytes
// per second, measured on 64 MiB.
func sha256Rate() float64 {
	buf := make([]byte, 1<<20)
	h := sha256.New()
	t0 := cpuTime()
	for range 64 {
		h.Write(buf)
	}
	_, _ = io.Discard.Write(h.Sum(nil))
	return float64(64<<20) / max(cpuTime()-t0, time.Millisecond).Seconds()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runQueueWait sums, over this process's threads, the time they were
// runnable but waiting for a core (/proc/self/task/*/schedstat, second
// field); 0 where the kernel does not report it.
func runQueueWait() time.Duration {
	tasks, _ := filepath.Glob("/proc/self/task/*/schedstat")
	var total time.Duration
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var run, wait int64
		if _, err := fmt.Sscan(string(b), &run, &wait); err == nil {
			total += time.Duration(wait)
		}
	}
	return total
}

// envBytes reads a size override for quick trial runs of the benchmarks.
func envBytes(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		if n, err := lab.ParseBytes(v); err == nil {
			return n
		}
	}
	return def
}
