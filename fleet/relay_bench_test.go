package fleet

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/registry"
	"github.com/moby/moby/client"
)

// countingRT counts the HTTP requests a Rancher client makes (the API calls:
// each Docker API connection through Rancher costs a POST of its
// dockersocket action; the websocket handshake is not counted).
// It wraps a transport like the Rancher client's default (64 idle
// connections kept), whose dialer rtt delays when not zero (see wanDial).
type countingRT struct {
	n  atomic.Int64
	tr *http.Transport
}

func newCountingRT(rtt time.Duration) *countingRT {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if rtt > 0 {
		tr.DialContext = wanDial(netDial, rtt, true)
	}
	return &countingRT{tr: tr}
}

func (c *countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Upgrade") != "websocket" {
		c.n.Add(1)
	}
	return c.tr.RoundTrip(req)
}

// relayLab is a lab of n hosts in one environment (dev) whose hosts.yaml
// reaches them only through Rancher, seeded with images, and the same
// hosts twice: direct (tcp://, as if the hosts.yaml listed their
// endpoints) and through Rancher (found with Discover, as prewarm does).
func relayLab(b *testing.B, hosts int, cfg lab.Config) (l *lab.Lab, direct, relayed []Target, rancherReqs *countingRT) {
	b.Helper()
	cfg.Regions, cfg.Envs, cfg.HostsPerEnv, cfg.ViaRancher, cfg.SeedRegions = 1, 1, hosts, []string{"dev"}, true
	l = labtest.New(b, cfg)
	relayed, rancherReqs = discoverRelayed(b, l, hosts, 0)
	for _, t := range relayed {
		d := t
		d.Docker, d.Rancher = l.DockerHost(t.Name).Endpoint(), nil
		direct = append(direct, d)
	}
	return l, direct, relayed, rancherReqs
}

// discoverRelayed finds lab l's hosts through Rancher as prewarm does, with
// a Rancher client rtt away (0: on loopback) that counts its requests.
func discoverRelayed(b *testing.B, l *lab.Lab, hosts int, rtt time.Duration) ([]Target, *countingRT) {
	b.Helper()
	inv := l.Inventory()
	rancherReqs := newCountingRT(rtt)
	b.Cleanup(rancherReqs.tr.CloseIdleConnections)
	hc := &http.Client{Transport: rancherReqs}
	relayed, err := Discover(b.Context(), inv, Selection{}, func(env *inventory.Environment) (RancherHosts, string, error) {
		return rancher.Connect(inv, env.Name, l.Getenv, rancher.WithHTTPClient(hc))
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(relayed) != hosts {
		b.Fatalf("%d hosts through Rancher, want %d", len(relayed), hosts)
	}
	rancherReqs.n.Store(0)
	return relayed, rancherReqs
}

// dockerRequests sums the Engine API requests the lab's hosts answered.
func dockerRequests(l *lab.Lab) int {
	n := 0
	for _, h := range l.Hosts() {
		for _, c := range l.DockerHost(h.Name).Stats().Requests {
			n += c
		}
	}
	return n
}

// envInt reads a count override for quick trial runs of the benchmarks.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkRelayStatus is `prewarm status` of 300 hosts x 10 images that
// every host holds, side by side on the same hosts: direct (tcp://) and
// through Rancher's dockersocket relay (each Docker API connection a
// dockersocket action and a websocket, relayed by the simulated agent in
// 1024-byte reads as rancher/agent v1.6 does). Reported: wall time, CPU
// time of this process (prewarm, the simulated hosts and Rancher's relay
// together), the Engine API requests the hosts answered, the Rancher API
// requests made.
//
// The wan2ms sides run the same status with round trips (see wanDial):
// direct, each host 2 ms from prewarm; through Rancher, Rancher 2 ms from
// prewarm and each host 2 ms from Rancher (its agent's link), or next to it
// (by-hosts: Rancher in the hosts' data centre, that link unshaped). They
// are bound by round trips, not CPU: on loopback the relay's cost is CPU.
func BenchmarkRelayStatus(b *testing.B) {
	hosts := envInt("DROVER_BENCH_RELAY_HOSTS", 300)
	var images []string
	for i := range 10 {
		images = append(images, fmt.Sprintf("app%d:1.0", i))
	}
	l, direct, relayed, rancherReqs := relayLab(b, hosts, lab.Config{Images: images, ImageSize: 64 << 10, Layers: 2})
	lock := labLock(l)
	for _, h := range l.Hosts() {
		for _, img := range lock.Images {
			if err := l.DockerHost(h.Name).Preload(b.Context(), l.Region(h.Region).Addr()+"/"+img.Repository+":"+img.Tag); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The WAN sides: each host rtt from prewarm (direct); through Rancher,
	// Rancher rtt from prewarm and each host rtt from Rancher (the agent's
	// bytes cross that link), or next to Rancher (by-hosts: that link
	// unshaped, since this machine's timers cannot sleep less than about
	// 1 ms). The agent's hop to dockerd stays local.
	const rtt = 2 * time.Millisecond
	wanRelayed, wanRancherReqs := discoverRelayed(b, l, hosts, rtt)
	wanDirect := WithDial(func(_ context.Context, host Target) (Engine, error) {
		return client.New(client.WithHost(host.Docker), client.WithDialContext(wanDial(netDial, rtt, true)))
	})
	agentsAt := func(rtt time.Duration) func() {
		return func() {
			for _, h := range l.Hosts() {
				dial := ranchersim.DialTCP(l.DockerHost(h.Name).Addr())
				if rtt == 0 {
					l.RancherHost(h.Name).SetDocker(dial)
					continue
				}
				far := wanDial(func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) }, rtt, false)
				l.RancherHost(h.Name).SetDocker(func(ctx context.Context) (net.Conn, error) { return far(ctx, "tcp", "") })
			}
		}
	}
	for _, side := range []struct {
		name    string
		targets []Target
		reqs    *countingRT
		opts    []Option
		setup   func()
	}{
		{name: "direct", targets: direct, reqs: rancherReqs},
		{name: "rancher", targets: relayed, reqs: rancherReqs},
		{name: "wan2ms-direct", targets: direct, reqs: rancherReqs, opts: []Option{wanDirect}},
		{name: "wan2ms-rancher", targets: wanRelayed, reqs: wanRancherReqs, setup: agentsAt(rtt)},
		{name: "wan2ms-rancher-by-hosts", targets: wanRelayed, reqs: wanRancherReqs, setup: agentsAt(0)},
	} {
		b.Run(side.name, func(b *testing.B) {
			if side.setup != nil {
				side.setup()
			}
			rancherReqs := side.reqs
			for range b.N {
				docker0, rancher0 := dockerRequests(l), rancherReqs.n.Load()
				var mat *Matrix
				var err error
				run := measure(func() {
					mat, err = Status(b.Context(), side.targets, lock, append([]Option{WithConcurrency(32)}, side.opts...)...)
				})
				if err != nil || !mat.AllPresent() {
					b.Fatalf("status: %v (not ready: %v)", err, mat.NotReady())
				}
				b.ReportMetric(run.wall.Seconds(), "wall-s")
				b.ReportMetric(run.cpu.Seconds(), "cpu-s")
				b.ReportMetric(float64(dockerRequests(l)-docker0), "docker-reqs")
				b.ReportMetric(float64(rancherReqs.n.Load()-rancher0), "rancher-reqs")
			}
		})
	}
}

// BenchmarkRelayPull is `prewarm pull` of a 256 MiB image (8 layers) onto
// 12 hosts, side by side: 12 hosts direct, then 12 other hosts of the same
// lab through Rancher. Only the Engine API's control stream crosses the
// relay (the pull request and its progress); the layers go from the
// registry to the host. Reported: wall time, and the bytes the hosts
// fetched from the registry.
func BenchmarkRelayPull(b *testing.B) {
	const hosts = 12
	size := envBytes("DROVER_BENCH_RELAY_IMAGE_SIZE", 256*mib)
	l, direct, relayed, rancherReqs := relayLab(b, 2*hosts, lab.Config{Images: []string{"big:1.0"}, ImageSize: size, Layers: 8})
	lock := labLock(l)
	for _, side := range []struct {
		name    string
		targets []Target
	}{{"direct", direct[:hosts]}, {"rancher", relayed[hosts:]}} {
		b.Run(side.name, func(b *testing.B) {
			for i := range b.N {
				if i > 0 {
					b.Skip("runs once: its hosts hold the image afterwards")
				}
				rancher0 := rancherReqs.n.Load()
				start := time.Now()
				rep, err := Pull(b.Context(), side.targets, lock, WithConcurrency(32))
				wall := time.Since(start)
				if err != nil || len(rep.Failed()) > 0 {
					b.Fatalf("pull: %v %v", err, rep.Failed())
				}
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric(float64(rep.Bytes())/mib, "hosts-MiB")
				b.ReportMetric(float64(rancherReqs.n.Load()-rancher0), "rancher-reqs")
			}
		})
	}
}

// BenchmarkRelayPresence is the presence check (`prewarm status`) of 300
// hosts (one environment) and of 1,000 hosts (5 environments of 200) x 10
// images, direct and through Rancher, with the lab (hosts, registries,
// Rancher and its relay) in a separate `lab up` process each, so this
// process's CPU time and heap are the tool's own: its moby clients, and
// through Rancher the dockersocket actions, websockets and base64 framing.
// The images are not on the hosts (each inspect answers 404: the lab has
// no quick way to preload ten images onto 1,000 hosts); the calls are
// those of a present image, with a smaller answer. Reported: wall time,
// CPU time, peak heap, Rancher API requests.
func BenchmarkRelayPresence(b *testing.B) {
	images := make([]string, 10)
	for i := range images {
		images[i] = fmt.Sprintf("app%d:1.0", i)
	}
	for _, size := range []struct{ envs, perEnv int }{{1, 300}, {5, 200}} {
		for _, side := range []string{"direct", "rancher"} {
			b.Run(fmt.Sprintf("hosts=%d/%s", size.envs*size.perEnv, side), func(b *testing.B) {
				args := []string{"--regions", "3", "--envs", strconv.Itoa(size.envs), "--hosts-per-env", strconv.Itoa(size.perEnv),
					"--images", strings.Join(images, ","), "--image-size", "64KiB", "--layers", "2"}
				if side == "rancher" {
					args = append(args, "--via-rancher", strings.Join(labEnvNames(size.envs), ","))
				}
				inv, hostsFile := labProcessArgs(b, args...)
				getenv, err := envFileGetenv(hostsFile + ".env")
				if err != nil {
					b.Fatal(err)
				}
				rancherReqs := newCountingRT(0)
				hc := &http.Client{Transport: rancherReqs}
				targets, err := Discover(b.Context(), inv, Selection{}, func(env *inventory.Environment) (RancherHosts, string, error) {
					return rancher.Connect(inv, env.Name, getenv, rancher.WithHTTPClient(hc))
				})
				if err != nil {
					b.Fatal(err)
				}
				if want := size.envs * size.perEnv; len(targets) != want {
					b.Fatalf("%d hosts, want %d", len(targets), want)
				}
				rel := &inventory.Release{Version: 1}
				for i, img := range images {
					rel.Images = append(rel.Images, inventory.ReleaseImage{Name: fmt.Sprintf("app%d", i), Ref: inv.Registries.Source.Address + "/" + img})
				}
				lock, err := registry.Resolve(b.Context(), inv.Registries.Source, rel)
				if err != nil {
					b.Fatal(err)
				}
				for i := range b.N {
					if i > 0 {
						b.Skip("runs once: a lab of this size per side")
					}
					rancher0 := rancherReqs.n.Load()
					var mat *Matrix
					run := measure(func() { mat, err = Status(b.Context(), targets, lock, WithConcurrency(32)) })
					if err != nil {
						b.Fatal(err)
					}
					for _, h := range mat.Hosts {
						for _, c := range h.Cells {
							if c.State != StateMissing {
								b.Fatalf("%s %s: %s %s, want missing", h.Name, c.Image, c.State, c.Error)
							}
						}
					}
					b.ReportMetric(run.wall.Seconds(), "wall-s")
					b.ReportMetric(run.cpu.Seconds(), "cpu-s")
					b.ReportMetric(float64(run.peakHeap)/mib, "peak-heap-MiB")
					b.ReportMetric(float64(rancherReqs.n.Load()-rancher0), "rancher-reqs")
				}
			})
		}
	}
}

// labEnvNames are the names `lab up --envs n` gives its environments.
func labEnvNames(n int) []string {
	names := []string{"dev", "qa", "demo"}
	regions := []string{"eu-west", "us-east", "ap-south"}
	for i := 3; i < n; i++ {
		names = append(names, "dmz-"+regions[(i-3)%len(regions)])
	}
	return names[:n]
}

// envFileGetenv reads the export lines `lab up` writes (its Rancher keys).
func envFileGetenv(path string) (func(string) string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "="); ok && !strings.HasPrefix(line, "#") {
			vars[k] = v
		}
	}
	return func(k string) string { return vars[k] }, nil
}

// BenchmarkRelayStatusApart is BenchmarkRelayStatus's loopback sides with
// the lab (hosts, registries, Rancher and its relay) in a separate `lab up`
// process per side, as BenchmarkRelayPresence runs it, and every image on
// every host (mirrored to the region and pulled before the measured runs):
// 300 hosts x 10 images, concurrency 32. In BenchmarkRelayStatus the relay,
// the simulated hosts and their content stores share this process with the
// tool, so the relay's allocations make the garbage collector mark the
// lab's heap again and again, at the tool's expense; here the collector
// of this process marks only the tool's heap. The two processes still share
// the machine's cores. Reported: wall time and this process's CPU time
// (the tool's own) of each status run, and the Rancher API requests.
func BenchmarkRelayStatusApart(b *testing.B) {
	hosts := envInt("DROVER_BENCH_RELAY_HOSTS", 300)
	images := make([]string, 10)
	for i := range images {
		images[i] = fmt.Sprintf("app%d:1.0", i)
	}
	for _, side := range []string{"direct", "rancher"} {
		b.Run(side, func(b *testing.B) {
			args := []string{"--regions", "1", "--envs", "1", "--hosts-per-env", strconv.Itoa(hosts),
				"--images", strings.Join(images, ","), "--image-size", "64KiB", "--layers", "2"}
			if side == "rancher" {
				args = append(args, "--via-rancher", "dev")
			}
			inv, hostsFile := labProcessArgs(b, args...)
			getenv, err := envFileGetenv(hostsFile + ".env")
			if err != nil {
				b.Fatal(err)
			}
			rancherReqs := newCountingRT(0)
			b.Cleanup(rancherReqs.tr.CloseIdleConnections)
			hc := &http.Client{Transport: rancherReqs}
			targets, err := Discover(b.Context(), inv, Selection{}, func(env *inventory.Environment) (RancherHosts, string, error) {
				return rancher.Connect(inv, env.Name, getenv, rancher.WithHTTPClient(hc))
			})
			if err != nil {
				b.Fatal(err)
			}
			if len(targets) != hosts {
				b.Fatalf("%d hosts, want %d", len(targets), hosts)
			}
			rel := &inventory.Release{Version: 1}
			for i, img := range images {
				rel.Images = append(rel.Images, inventory.ReleaseImage{Name: fmt.Sprintf("app%d", i), Ref: inv.Registries.Source.Address + "/" + img})
			}
			lock, err := registry.Resolve(b.Context(), inv.Registries.Source, rel)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := registry.Mirror(b.Context(), lock, inv.Registries.Source, inv.Registries.Regions); err != nil {
				b.Fatal(err)
			}
			rep, err := Pull(b.Context(), targets, lock, WithConcurrency(32))
			if err != nil || len(rep.Failed()) > 0 {
				b.Fatalf("pull: %v %v", err, rep.Failed())
			}
			for b.Loop() {
				rancher0 := rancherReqs.n.Load()
				var mat *Matrix
				run := measure(func() { mat, err = Status(b.Context(), targets, lock, WithConcurrency(32)) })
				if err != nil || !mat.AllPresent() {
					b.Fatalf("status: %v (not ready: %v)", err, mat.NotReady())
				}
				b.ReportMetric(run.wall.Seconds(), "wall-s")
				b.ReportMetric(run.cpu.Seconds(), "cpu-s")
				b.ReportMetric(float64(rancherReqs.n.Load()-rancher0), "rancher-reqs")
			}
		})
	}
}
