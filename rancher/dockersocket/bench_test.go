package dockersocket_test

import (
	"context"
	"testing"

	"github.com/drover-dev/drover/internal/lab/dockersim/dockertest"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/moby/moby/client"
)

// BenchmarkInspect100 runs 100 image inspects on a simulated host, direct and
// through the Rancher relay; it reports dockersocket actions (Rancher API
// requests) per 100 inspects. Run with -benchtime 1x for one measurement.
func BenchmarkInspect100(b *testing.B) {
	dh := startDockersim(b)
	reg := dockertest.StartRegistry(b, false)
	reg.Push(b, "bench/app:1", dockertest.RandomImage(b, 1024, 1))
	ref := reg.Ref("bench/app:1")
	if err := dh.Preload(context.Background(), ref); err != nil {
		b.Fatal(err)
	}
	direct, err := client.New(client.WithHost(dh.Endpoint()))
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close()
	r := newRig(b, ranchersim.DialTCP(dh.Addr()))
	relayed := mobyClient(b, r.dialer(b, envKeys))
	for _, bc := range []struct {
		name string
		cli  *client.Client
	}{{"direct", direct}, {"relay", relayed}} {
		b.Run(bc.name, func(b *testing.B) {
			before := r.actions.Load()
			for b.Loop() {
				for range 100 {
					if _, err := bc.cli.ImageInspect(context.Background(), ref); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(r.actions.Load()-before)/float64(b.N), "actions/100inspects")
		})
	}
}
