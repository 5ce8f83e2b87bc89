package rollout_test

import (
	"context"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// Bench shape: 20 services x 4 environments (one wave each), scale 2 on 2
// hosts per environment, a 64 MiB image whose new tag shares half its
// layers with the running one, hosts on 16 MiB/s links to regional
// registries of 64 MiB/s.
const (
	benchEnvs     = 4
	benchServices = 20
	benchImage    = 64 << 20
)

func benchFleet(b *testing.B) *fleet {
	b.Helper()
	f := newFleet(b, fleetConfig{envs: benchEnvs, hosts: 2, services: benchServices, lab: func(c *lab.Config) {
		c.Images = []string{"app:1.0", "app:1.1"}
		c.ImageSize, c.Layers = benchImage, 4
		c.HostLink = netem.Link{BytesPerSec: 16 << 20, Latency: 20 * time.Millisecond}
		c.RegionLink = netem.Link{BytesPerSec: 64 << 20}
	}})
	f.lock.Images = f.lock.Images[:1] // app:1.1 only
	return f
}

// present is a gate that always opens: a rollout without the gate, where
// hosts pull the new image while Rancher upgrades (what rancher-compose and
// its kin do).
type present struct{}

func (present) Present(context.Context, string, rollout.Host, rollout.Image) (bool, error) {
	return true, nil
}

// BenchmarkRollout20x4 rolls 20 services x 4 environments out on the lab,
// once with the image prewarmed onto every host beforehand (prewarm's time
// reported apart) and once with hosts pulling it during the upgrade. It
// reports the rollout wall time of each, their ratio, and the Rancher API
// requests per service upgrade. Run it with -benchtime 1x: each iteration
// starts two labs (not timed).
func BenchmarkRollout20x4(b *testing.B) {
	var pre, pull, prewarm time.Duration
	var reqs, upgrades int
	for b.Loop() {
		b.StopTimer()
		fp := benchFleet(b)
		start := time.Now()
		fp.prewarm(b, nil)
		prewarm += time.Since(start)
		d, n, u := benchApply(b, fp, fp.engineWith(b, adapt.NewHostPresence(fp.inv), rollout.WithEnvConcurrency(1)))
		pre += d
		reqs, upgrades = reqs+n, upgrades+u

		fn := benchFleet(b)
		d, n, u = benchApply(b, fn, fn.engineWith(b, present{}, rollout.WithEnvConcurrency(1)))
		pull += d
		reqs, upgrades = reqs+n, upgrades+u
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(pre.Seconds()/n, "s-prewarmed")
	b.ReportMetric(prewarm.Seconds()/n, "s-prewarm-ahead")
	b.ReportMetric(pull.Seconds()/n, "s-pull-during")
	b.ReportMetric(pull.Seconds()/pre.Seconds(), "ratio")
	b.ReportMetric(float64(reqs)/float64(upgrades), "req/upgrade")
}

// benchApply runs the rollout and returns its wall time, the HTTP requests
// it made and the upgrades it did.
func benchApply(b *testing.B, f *fleet, e *rollout.Engine) (time.Duration, int, int) {
	b.Helper()
	f.http.reset()
	start := time.Now()
	rep, err := e.Apply(b.Context(), f.targets(b))
	d := time.Since(start)
	if err != nil {
		b.Fatalf("Apply: %v\n%s", err, rep)
	}
	ups := 0
	for _, er := range rep.Envs {
		for _, s := range er.Services {
			if s.Outcome == rollout.OutcomeFinished {
				ups++
			}
		}
	}
	if ups != benchEnvs*benchServices {
		b.Fatalf("%d services finished, want %d", ups, benchEnvs*benchServices)
	}
	return d, len(f.http.lines()), ups
}
