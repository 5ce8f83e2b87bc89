package fleet

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

// envBytes reads a size override for quick trial runs of the benchmarks.
func envBytes(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		if n, err := lab.ParseBytes(v); err == nil {
			return n
		}
	}
	return def
}

const (
	mib = 1 << 20
	gib = 1 << 30
)

// benchLinks: the build registry is far away (a WAN link shared by every
// reader), each region's registry is near its hosts, each host has 1 GbE.
var benchLinks = struct{ source, region, host netem.Link }{
	source: netem.Link{BytesPerSec: 100 * mib, Latency: 40 * time.Millisecond},
	region: netem.Link{BytesPerSec: 1 * gib, Latency: 2 * time.Millisecond},
	host:   netem.Link{BytesPerSec: 125_000_000},
}

func benchLab(b *testing.B) (*lab.Lab, []Target, *inventory.Lock) {
	b.Helper()
	l := labtest.New(b, lab.Config{
		Regions: 3, Envs: 3, HostsPerEnv: 10,
		Images: []string{"big:1.0"}, ImageSize: envBytes("DROVER_BENCH_IMAGE_SIZE", gib), Layers: 8,
		SourceLink: benchLinks.source, RegionLink: benchLinks.region, HostLink: benchLinks.host,
	})
	hosts, err := Targets(l.Inventory(), Selection{})
	if err != nil {
		b.Fatal(err)
	}
	return l, hosts, labLock(l)
}

// BenchmarkPull1GiB30Hosts puts a 1 GiB, 8-layer image on 30 lab hosts in
// 3 regions with shaped links. drover: prewarm mirror (source read once,
// fanned out to the regions) then prewarm pull (each host from its
// region). naive: each host pulls from the source, one after another.
func BenchmarkPull1GiB30Hosts(b *testing.B) {
	b.Run("drover", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			l, hosts, lock := benchLab(b)
			inv := l.Inventory()
			l.Source.Faults().ResetStats()
			b.StartTimer()
			start := time.Now()
			if _, err := registry.Mirror(b.Context(), lock, inv.Registries.Source, inv.Registries.Regions); err != nil {
				b.Fatalf("mirror: %v", err)
			}
			mirrored := time.Now()
			rep, err := Pull(b.Context(), hosts, lock, WithRegistryLimit(10))
			if err != nil {
				b.Fatalf("pull: %v", err)
			}
			end := time.Now()
			b.StopTimer()
			b.ReportMetric(end.Sub(start).Seconds(), "wall-s")
			b.ReportMetric(mirrored.Sub(start).Seconds(), "mirror-s")
			b.ReportMetric(end.Sub(mirrored).Seconds(), "pull-s")
			b.ReportMetric(float64(sourceBytes(b, l))/mib, "source-MiB")
			b.ReportMetric(float64(rep.Bytes())/mib, "hosts-MiB")
			_ = l.Close()
		}
	})
	b.Run("naive", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			l, hosts, lock := benchLab(b)
			ref := l.Source.Addr() + "/" + lock.Images[0].Repository + ":" + lock.Images[0].Tag
			l.Source.Faults().ResetStats()
			b.StartTimer()
			start := time.Now()
			for _, h := range hosts {
				if err := dockerPull(b.Context(), h.Docker, ref); err != nil {
					b.Fatalf("docker pull %s on %s: %v", ref, h.Name, err)
				}
			}
			end := time.Now()
			b.StopTimer()
			b.ReportMetric(end.Sub(start).Seconds(), "wall-s")
			b.ReportMetric(float64(sourceBytes(b, l))/mib, "source-MiB")
			_ = l.Close()
		}
	})
}

// dockerPull is `docker pull ref` against endpoint.
func dockerPull(ctx context.Context, endpoint, ref string) error {
	c, err := client.New(client.WithHost(endpoint))
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	return resp.Wait(ctx)
}

func sourceBytes(b *testing.B, l *lab.Lab) int64 {
	if err := l.Idle(b.Context()); err != nil {
		b.Fatal(err)
	}
	return l.Source.Stats().Get("GET", netem.ClassBlobs).BytesOut
}

// BenchmarkOverhead measures the orchestrator alone: the lab (hosts and
// registries) runs in a separate `lab up` process, so this process's CPU
// time and heap are prewarm's own. Each size uses hosts not used before:
// "pull" pulls a small image onto them, "check" is the second run (one
// inspect per host).
func BenchmarkOverhead(b *testing.B) {
	sizes := []int{10, 30, 100, 300}
	total := 0
	for _, n := range sizes {
		total += n
	}
	inv := labProcess(b, 3, (total+2)/3)
	hosts, err := Targets(inv, Selection{})
	if err != nil {
		b.Fatal(err)
	}
	rel := &inventory.Release{Version: 1, Images: []inventory.ReleaseImage{{Name: "app", Ref: inv.Registries.Source.Address + "/app:1.0"}}}
	lock, err := registry.Resolve(b.Context(), inv.Registries.Source, rel)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := registry.Mirror(b.Context(), lock, inv.Registries.Source, inv.Registries.Regions); err != nil {
		b.Fatal(err)
	}
	next := 0
	for _, n := range sizes {
		set := hosts[next : next+n]
		next += n
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			for i := range b.N {
				if i > 0 {
					b.Skip("each size runs once: its hosts hold the image afterwards")
				}
				for _, phase := range []string{"pull", "check"} {
					m := measure(func() {
						if _, err := Pull(b.Context(), set, lock); err != nil {
							b.Fatalf("%s: %v", phase, err)
						}
					})
					b.ReportMetric(m.wall.Seconds(), phase+"-wall-s")
					b.ReportMetric(float64(m.cpu.Microseconds())/1000/float64(n), phase+"-cpu-ms/host")
					b.ReportMetric(float64(m.peakHeap)/mib, phase+"-peak-heap-MiB")
					b.ReportMetric(float64(m.peakGoroutines), phase+"-peak-goroutines")
				}
			}
		})
	}
}

type measured struct {
	wall, cpu      time.Duration
	peakHeap       uint64
	peakGoroutines int
}

// measure runs f and reports wall time, this process's CPU time (user +
// system) and the peak live heap and goroutine count, sampled every 20 ms.
func measure(f func()) measured {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/sched/goroutines:goroutines"}}
	var m measured
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			m.peakHeap = max(m.peakHeap, sample[0].Value.Uint64())
			m.peakGoroutines = max(m.peakGoroutines, int(sample[1].Value.Uint64()))
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	cpu0, start := cpuTime(), time.Now()
	f()
	m.wall, m.cpu = time.Since(start), cpuTime()-cpu0
	close(stop)
	<-done
	return m
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// labProcess builds cmd/lab, runs `lab up` with regions x envs of hosts
// hosts each and a small image, and returns its inventory. The process is
// stopped at cleanup.
func labProcess(b *testing.B, envs, hostsPerEnv int) *inventory.Inventory {
	b.Helper()
	inv, _ := labProcessArgs(b, "--regions", "3", "--envs", strconv.Itoa(envs), "--hosts-per-env", strconv.Itoa(hostsPerEnv),
		"--images", "app:1.0", "--image-size", "256KiB", "--layers", "2")
	return inv
}

// labProcessArgs builds cmd/lab, runs `lab up` with args, and returns its
// inventory and the path of the hosts.yaml it wrote (its Rancher keys are
// in that path + ".env"). The process is stopped at cleanup.
func labProcessArgs(b *testing.B, args ...string) (*inventory.Inventory, string) {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "lab")
	build := exec.CommandContext(b.Context(), "go", "build", "-o", bin, "../cmd/lab")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build lab: %v\n%s", err, out)
	}
	hostsFile := filepath.Join(dir, "hosts.yaml")
	cmd := exec.CommandContext(context.WithoutCancel(b.Context()), bin, append(append([]string{"up"}, args...), "--write", hostsFile)...)
	logf, err := os.Create(filepath.Join(dir, "lab.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case werr := <-exited:
			if werr != nil {
				b.Logf("lab exited: %v", werr)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			b.Logf("lab killed: %v", <-exited)
		}
		_ = logf.Close()
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if inv, err := inventory.LoadFile(hostsFile); err == nil {
			return inv, hostsFile
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(filepath.Join(dir, "lab.log"))
			b.Fatalf("lab up exited: %v\n%s", err, out)
		case <-time.After(100 * time.Millisecond): // polling for the hosts.yaml lab up writes when ready
		}
		if time.Now().After(deadline) {
			b.Fatal("lab up did not write its hosts.yaml within 2 minutes")
		}
	}
}
