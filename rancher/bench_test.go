package rancher

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// BenchmarkUpgradeCycle runs upgrade -> wait upgraded -> finishupgrade ->
// wait active against the simulator (a service of 2 containers, batch 1) and reports how long after the
// simulator reached "upgraded" the client saw it (detect-ms-*), and the API
// requests one cycle costs (websocket handshakes included). Variants: the
// event stream with the simulator's default 1 s event merging (like
// Rancher), the same with 100 ms merging (the client's own overhead), and
// the 1 s polling baseline (WithEventStream(false)). Run once:
//
//	go test -run '^$' -bench UpgradeCycle -benchtime 6x ./rancher/
func BenchmarkUpgradeCycle(b *testing.B) {
	for _, v := range []struct {
		name    string
		sim     []ranchersim.Option
		clientO []Option
	}{
		{"events/merge-1s", nil, nil},
		{"events/merge-100ms", []ranchersim.Option{ranchersim.WithEventPeriod(100 * time.Millisecond)}, nil},
		{"poll-1s", nil, []Option{WithEventStream(false), WithPollInterval(time.Second)}},
	} {
		b.Run(v.name, func(b *testing.B) {
			l := startSim(b, v.sim, v.clientO...)
			simSvc, err := l.p.AddService("web", "api", "app:0", 2)
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			if err := simSvc.WaitState(wctx, "active"); err != nil {
				b.Fatal(err)
			}
			cancel()
			var lat []time.Duration
			// Upgrades of random length (one batch pause of 1-4 s), so state
			// changes fall at random phases of the poll and event ticks.
			rnd := rand.New(rand.NewPCG(1, 2))
			l.rt.reset()
			b.ResetTimer()
			for i := range b.N {
				svc, err := l.c.ServiceByID(ctx, l.p.ID(), simSvc.ID())
				if err != nil {
					b.Fatal(err)
				}
				for _, step := range []struct {
					state string
					act   func() (*Service, error)
				}{
					{StateUpgraded, func() (*Service, error) {
						return l.c.Upgrade(ctx, svc, UpgradeSpec{Image: fmt.Sprintf("app:%d", i+1), BatchSize: 1, IntervalMillis: 1000 + rnd.IntN(3000)})
					}},
					{StateActive, func() (*Service, error) { return l.c.FinishUpgrade(ctx, svc) }},
				} {
					simAt := make(chan time.Time, 1)
					go func() {
						c, cancel := context.WithTimeout(ctx, 30*time.Second)
						defer cancel()
						if err := simSvc.WaitState(c, step.state); err != nil {
							b.Error(err)
						}
						simAt <- time.Now()
					}()
					s, err := step.act()
					if err != nil {
						b.Fatal(err)
					}
					c, cancel := context.WithTimeout(ctx, 30*time.Second)
					svc, err = l.c.WaitState(c, s, step.state)
					seen := time.Now()
					cancel()
					if err != nil {
						b.Fatal(err)
					}
					if at := <-simAt; step.state == StateUpgraded {
						// The upgrade's end is the change worth measuring; a
						// finish is usually over before WaitFor's first read.
						lat = append(lat, seen.Sub(at))
					}
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			var sum time.Duration
			for _, d := range lat {
				sum += d
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(lat)), "detect-ms-mean")
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "detect-ms-p50")
			b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "detect-ms-max")
			b.ReportMetric(float64(l.rt.get("total"))/float64(b.N), "requests/upgrade")
			b.ReportMetric(0, "ns/op")
		})
	}
}
