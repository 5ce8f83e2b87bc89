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
// requests per service upgrade. The prewarmed run is split into phases
// from the engine's progress events (see phaseLog): per service, the mean
// seconds of each phase; for the whole run, the wall time some service
// spends waiting on Rancher (or its soak), and the engine's own share, the
// rest. Run it with -benchtime 1x: each iteration starts two labs (not
// timed).
func BenchmarkRollout20x4(b *testing.B) {
	var pre, pull, prewarm time.Duration
	var reqs, upgrades int
	var ph phases
	for b.Loop() {
		b.StopTimer()
		fp := benchFleet(b)
		start := time.Now()
		fp.prewarm(b, nil)
		prewarm += time.Since(start)
		log := watchPhases(b.Context(), fp)
		d, n, u := benchApply(b, fp, fp.engineWith(b, adapt.NewHostPresence(fp.inv), rollout.WithEnvConcurrency(1)))
		pre += d
		ph = log.split(d) // the last iteration's
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
	reportPhases(b, ph, pre.Seconds()/n)
}

func reportPhases(b *testing.B, ph phases, wall float64) {
	b.ReportMetric(ph.upgrade, "s-upgrade/svc")
	b.ReportMetric(ph.pacing, "s-rancher-pacing/svc")
	b.ReportMetric(ph.eventLag, "s-event-lag/svc")
	b.ReportMetric(ph.health, "s-health/svc")
	b.ReportMetric(ph.soak, "s-soak+hold/svc")
	b.ReportMetric(ph.finish, "s-finish/svc")
	b.ReportMetric(ph.gate, "s-gate")
	b.ReportMetric(ph.inWait, "s-waiting")
	b.ReportMetric(ph.engine, "s-engine")
	b.ReportMetric(ph.engine/wall, "engine-share")
}

// BenchmarkRolloutRequests counts the Rancher API requests per service
// upgrade at two upgrade durations (batch interval 100 ms and 6 s: a
// service of 2 containers upgrades in about 0.2 s and 6 s), on one
// prewarmed environment of 8 services. The count should not grow with the
// duration: waits ride the websocket.
func BenchmarkRolloutRequests(b *testing.B) {
	for _, interval := range []time.Duration{100 * time.Millisecond, 6 * time.Second} {
		b.Run("interval="+interval.String(), func(b *testing.B) {
			var reqs, upgrades int
			var wall time.Duration
			var ph phases
			for b.Loop() {
				b.StopTimer()
				f := newFleet(b, fleetConfig{envs: 1, hosts: 2, services: 8})
				f.inv.Environments[0].Strategy.IntervalMillis = int(interval / time.Millisecond)
				f.lock.Images = f.lock.Images[:1]
				f.prewarm(b, nil)
				log := watchPhases(b.Context(), f)
				f.http.reset()
				start := time.Now()
				rep, err := f.engineWith(b, adapt.NewHostPresence(f.inv)).Apply(b.Context(), f.targets(b))
				d := time.Since(start)
				if err != nil {
					b.Fatalf("Apply: %v\n%s", err, rep)
				}
				wall += d
				ph = log.split(d)
				reqs += len(f.http.lines())
				upgrades += ph.services
				b.Logf("requests by path, %d upgrades:\n%s", ph.services, f.http.byPath())
				b.StartTimer()
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(reqs)/float64(upgrades), "req/upgrade")
			b.ReportMetric(wall.Seconds()/float64(b.N), "s-wall")
			b.ReportMetric(ph.upgrade, "s-upgrade/svc")
		})
	}
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
