package registry

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

// helperEnv carries the helper process's job: a lock, a source and regions.
const helperEnv = "DROVER_MIRROR_HELPER"

type helperJob struct {
	Lock    string
	Source  string
	Regions map[string]string
}

// TestMirrorHelperProcess is not a test: it is the Drover side of
// BenchmarkMirror1GiB3Regions, run in its own process (as crane is) so that
// its peak memory is its own, not the in-process registries'.
func TestMirrorHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkMirror1GiB3Regions")
	}
	var job helperJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		t.Fatal(err)
	}
	lock, err := inventory.ReadLock(job.Lock)
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string]inventory.Registry{}
	for name, addr := range job.Regions {
		regions[name] = inventory.Registry{Address: addr, Insecure: true}
	}
	rep, err := Mirror(t.Context(), lock, inventory.Registry{Address: job.Source, Insecure: true}, regions)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(rep)
}

// BenchmarkMirror1GiB3Regions mirrors a 1 GiB, 8-layer image from a
// distribution v3 source to 3 distribution v3 regions (loopback, unshaped),
// Drover in its own process, then copies the same image with `crane copy`
// once per region from the same source (crane built from the module cache
// at go.mod's version; set CRANE to use a prebuilt one). Metrics: wall
// seconds, source MiB read and peak RSS MiB of each client. ns/op is
// Drover's wall time. DROVER_BENCH_MIB=32 shrinks the image, to check the
// benchmark itself.
//
//	go test -run '^$' -bench Mirror1GiB3Regions -benchtime 1x ./registry
func BenchmarkMirror1GiB3Regions(b *testing.B) {
	crane := craneBinary(b)
	ctx := b.Context()
	src := benchRegistry(b)
	size := int64(1 << 30)
	if s := os.Getenv("DROVER_BENCH_MIB"); s != "" { // a quick check of the benchmark itself
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("DROVER_BENCH_MIB=%q", s)
		}
		size = int64(n) << 20
	}
	if _, err := registries.Seed(ctx, src.Addr(), registries.SeedSpec{Images: []string{"bench/app:1.0"}, Size: size, Layers: 8, Base: -1}); err != nil {
		b.Fatalf("seed: %v", err)
	}
	lock, err := Resolve(ctx, inventory.Registry{Address: src.Addr(), Insecure: true}, &inventory.Release{Version: 1,
		Images: []inventory.ReleaseImage{{Name: "app", Ref: "bench/app:1.0"}}})
	if err != nil {
		b.Fatal(err)
	}
	lockPath := filepath.Join(b.TempDir(), "release.lock.json")
	if err := inventory.WriteLock(lockPath, lock); err != nil {
		b.Fatal(err)
	}
	const mib = 1 << 20
	var droverSecs, droverSrc, droverRSS, droverCPU float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		regions := map[string]string{}
		var regs []*registries.Registry
		for i := range 3 {
			r := benchRegistry(b)
			regs = append(regs, r)
			regions[fmt.Sprintf("r%d", i+1)] = r.Addr()
		}
		src.Faults().ResetStats()
		spec, _ := json.Marshal(helperJob{Lock: lockPath, Source: src.Addr(), Regions: regions})
		args := []string{"-test.run", "^TestMirrorHelperProcess$", "-test.count", "1"}
		if p := os.Getenv("DROVER_BENCH_CPUPROFILE"); p != "" {
			args = append(args, "-test.cpuprofile", p)
		}
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
		b.StartTimer()
		start := time.Now()
		out, err := cmd.CombinedOutput()
		secs := time.Since(start).Seconds()
		b.StopTimer()
		if err != nil {
			b.Fatalf("drover helper: %v\n%s", err, out)
		}
		droverSecs, droverSrc, droverRSS, droverCPU = secs, float64(served(src))/mib, rssMiB(cmd), cpuSecs(cmd)
		for _, r := range regs {
			closeAndRemove(b, r)
		}
	}

	// The baseline: crane copy, once per region, one after the other.
	src.Faults().ResetStats()
	var craneSecs, craneRSS, craneCPU float64
	for i := range 3 {
		dst := benchRegistry(b)
		cmd := exec.CommandContext(ctx, crane, "copy", "--insecure", src.Addr()+"/bench/app:1.0", dst.Addr()+"/bench/app:1.0")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("crane copy %d: %v\n%s", i+1, err, out)
		}
		craneSecs += time.Since(start).Seconds()
		craneRSS = max(craneRSS, rssMiB(cmd))
		craneCPU += cpuSecs(cmd)
		closeAndRemove(b, dst)
	}
	b.ReportMetric(droverSecs, "drover-s")
	b.ReportMetric(droverSrc, "drover-src-MiB")
	b.ReportMetric(droverRSS, "drover-rss-MiB")
	b.ReportMetric(droverCPU, "drover-cpu-s")
	b.ReportMetric(craneSecs, "crane3x-s")
	b.ReportMetric(float64(served(src))/mib, "crane3x-src-MiB")
	b.ReportMetric(craneRSS, "crane-rss-MiB")
	b.ReportMetric(craneCPU, "crane3x-cpu-s")
}

func benchRegistry(b *testing.B) *registries.Registry {
	b.Helper()
	r, err := registries.Start(b.Context(), registries.WithDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	return r
}

// closeAndRemove frees a region's disk as soon as it is measured.
func closeAndRemove(b *testing.B, r *registries.Registry) {
	b.Helper()
	_ = r.Close()
	if err := os.RemoveAll(r.Dir()); err != nil {
		b.Log(err)
	}
}

func rssMiB(cmd *exec.Cmd) float64 {
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return 0
}

// cpuSecs is the client's user plus system CPU time.
func cpuSecs(cmd *exec.Cmd) float64 {
	return (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
}

// craneBinary is $CRANE, or crane built from the module cache at the
// version tools/go.mod pins (the same go-containerregistry as go.mod).
func craneBinary(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("CRANE"); p != "" {
		return p
	}
	out := filepath.Join(b.TempDir(), "crane")
	cmd := exec.CommandContext(b.Context(), "go", "build", "-modfile=../tools/go.mod", "-o", out, "github.com/google/go-containerregistry/cmd/crane")
	cmd.Dir = "."
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Skipf("build crane: %v\n%s", err, msg)
	}
	return out
}

// BenchmarkMirrorShaped mirrors a 1 GiB image from a source behind a WAN
// link (100 MB/s, 40 ms per request) to 1 and to 3 unshaped regions, in 1
// layer and in 8, in process. The link limit is the image once through the
// source link (blob bytes served / link rate); "ratio" is the wall time over it,
// 1.0 being the link saturated from the first byte to the last. Each case
// seeds its own source (unshaped while seeding). DROVER_BENCH_MIB shrinks
// the image.
//
//	go test -run '^$' -bench MirrorShaped -benchtime 1x ./registry
func BenchmarkMirrorShaped(b *testing.B) {
	link := netem.Link{BytesPerSec: 100_000_000, Latency: 40 * time.Millisecond}
	size := int64(1 << 30)
	if s := os.Getenv("DROVER_BENCH_MIB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("DROVER_BENCH_MIB=%q", s)
		}
		size = int64(n) << 20
	}
	for _, layers := range []int{1, 8} {
		for _, nreg := range []int{1, 3} {
			b.Run(fmt.Sprintf("layers=%d/regions=%d", layers, nreg), func(b *testing.B) {
				ctx := b.Context()
				src := benchRegistry(b)
				if _, err := registries.Seed(ctx, src.Addr(), registries.SeedSpec{Images: []string{"bench/app:1.0"}, Size: size, Layers: layers, Base: -1}); err != nil {
					b.Fatalf("seed: %v", err)
				}
				source := inventory.Registry{Address: src.Addr(), Insecure: true}
				lock, err := Resolve(ctx, source, &inventory.Release{Version: 1,
					Images: []inventory.ReleaseImage{{Name: "app", Ref: "bench/app:1.0"}}})
				if err != nil {
					b.Fatal(err)
				}
				src.SetLink(link)
				var secs float64
				var bytes int64
				for b.Loop() {
					b.StopTimer()
					regions := map[string]inventory.Registry{}
					var regs []*registries.Registry
					for i := range nreg {
						r := benchRegistry(b)
						regs = append(regs, r)
						regions[fmt.Sprintf("r%d", i+1)] = inventory.Registry{Address: r.Addr(), Insecure: true}
					}
					src.Faults().ResetStats()
					b.StartTimer()
					start := time.Now()
					if _, err := Mirror(ctx, lock, source, regions); err != nil {
						b.Fatal(err)
					}
					secs += time.Since(start).Seconds()
					b.StopTimer()
					// The seeded blobs are close to size, not exactly it: the
					// limit counts what crossed the link, which must be the
					// image once.
					if bytes = served(src); bytes < size*99/100 || bytes > size*101/100 {
						b.Fatalf("source served %d bytes, want the image once (%d)", bytes, size)
					}
					for _, r := range regs {
						closeAndRemove(b, r)
					}
					b.StartTimer()
				}
				limit := float64(bytes) / float64(link.BytesPerSec)
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(secs/float64(b.N), "s")
				b.ReportMetric(limit, "s-link-limit")
				b.ReportMetric(secs/float64(b.N)/limit, "ratio")
			})
		}
	}
}
