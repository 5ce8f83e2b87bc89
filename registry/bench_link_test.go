package registry

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

// BenchmarkLinkOneStream isolates what holds one blob's stream on the
// shaped source link (100 MB/s, 40 ms per request): the same 1-layer image
// read by one plain GET into io.Discard (no Drover code at all), by 4 and
// by 8 ranged GETs at once, copied by `crane copy` to an unshaped registry,
// and mirrored by Drover to one unshaped region. Each figure is MB/s of the
// blob through the link. DROVER_BENCH_MIB sizes the layer (default 256).
//
//	go test -run '^$' -bench LinkOneStream -benchtime 1x ./registry
func BenchmarkLinkOneStream(b *testing.B) {
	link := netem.Link{BytesPerSec: 100_000_000, Latency: 40 * time.Millisecond}
	size := int64(256 << 20)
	if s := os.Getenv("DROVER_BENCH_MIB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("DROVER_BENCH_MIB=%q", s)
		}
		size = int64(n) << 20
	}
	crane := craneBinary(b)
	ctx := b.Context()
	src := benchRegistry(b)
	seeded, err := registries.Seed(ctx, src.Addr(), registries.SeedSpec{Images: []string{"bench/app:1.0"}, Size: size, Layers: 1, Base: -1})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	layer, lsize := seeded[0].Layers[0], seeded[0].Size
	source := inventory.Registry{Address: src.Addr(), Insecure: true}
	lock, err := Resolve(ctx, source, &inventory.Release{Version: 1,
		Images: []inventory.ReleaseImage{{Name: "app", Ref: "bench/app:1.0"}}})
	if err != nil {
		b.Fatal(err)
	}
	src.SetLink(link)
	mbps := func(d time.Duration) float64 { return float64(lsize) / d.Seconds() / 1e6 }
	get := func(parts int) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		per := (lsize + int64(parts) - 1) / int64(parts)
		for k := range parts {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, src.URL()+"/v2/bench/app/blobs/"+layer, nil)
				if parts > 1 {
					req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", int64(k)*per, min(int64(k+1)*per, lsize)-1))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				defer resp.Body.Close()
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	for b.Loop() {
		b.ReportMetric(mbps(get(1)), "get1-MB/s")
		b.ReportMetric(mbps(get(4)), "get4-MB/s")
		b.ReportMetric(mbps(get(8)), "get8-MB/s")

		dst := benchRegistry(b)
		start := time.Now()
		cmd := exec.CommandContext(ctx, crane, "copy", "--insecure", src.Addr()+"/bench/app:1.0", dst.Addr()+"/bench/app:1.0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("crane copy: %v\n%s", err, out)
		}
		b.ReportMetric(mbps(time.Since(start)), "crane-MB/s")
		closeAndRemove(b, dst)

		dst = benchRegistry(b)
		start = time.Now()
		if _, err := Mirror(ctx, lock, source, map[string]inventory.Registry{"r1": {Address: dst.Addr(), Insecure: true}}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(mbps(time.Since(start)), "drover-MB/s")
		closeAndRemove(b, dst)
	}
	b.ReportMetric(0, "ns/op")
}
