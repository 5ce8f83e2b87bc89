package dockersocket_test

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rancher/dockersocket"
	"github.com/moby/moby/client"
)

var envKeys = ranchersim.Keys{Access: "env-access", Secret: "env-secret"}

// rig is a Rancher simulator with one environment and one host named "h1"
// whose agent relays to docker.
type rig struct {
	srv     *ranchersim.Server
	project *ranchersim.Project
	host    *ranchersim.Host
	actions atomic.Int64 // dockersocket actions asked for
}

func newRig(t testing.TB, docker ranchersim.DockerDialFunc, opts ...ranchersim.Option) *rig {
	t.Helper()
	srv, err := ranchersim.Start(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p := srv.AddProject("dmz", envKeys)
	h := p.AddHost("h1", "10.0.0.1", nil, nil)
	h.SetDocker(docker)
	return &rig{srv: srv, project: p, host: h}
}

// hostResource reads the host as keys see it, through the Rancher client
// (the one that asks for dockersocket access in production), and returns
// the client with it.
func (r *rig) hostResource(t testing.TB, keys ranchersim.Keys) (*rancher.Client, *rancher.Host) {
	t.Helper()
	c, err := rancher.New(r.srv.URL(), keys.Access, keys.Secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	hosts, err := c.Hosts(context.Background(), r.project.ID())
	if err != nil {
		t.Fatal(err)
	}
	for i := range hosts {
		if hosts[i].ID == r.host.ID() {
			return c, &hosts[i]
		}
	}
	t.Fatalf("host %s not listed", r.host.ID())
	return nil, nil
}

// dialer reads the host once and asks for a fresh action per connection,
// counting them. It is the client's DockerDialer without its Check, so
// that a websocket Rancher closes is the dialer's own ErrRelayClosed.
func (r *rig) dialer(t testing.TB, keys ranchersim.Keys) *dockersocket.Dialer {
	t.Helper()
	c, h := r.hostResource(t, keys)
	d := c.DockerDialer(h)
	access := d.Access
	d.Access = func(ctx context.Context) (string, string, error) {
		r.actions.Add(1)
		return access(ctx)
	}
	d.Check = nil
	return d
}

// mobyClient is a moby client whose every connection goes through d.
func mobyClient(t testing.TB, d *dockersocket.Dialer) *client.Client {
	t.Helper()
	cli, err := client.New(client.WithHost("tcp://h1.via-rancher:2375"), client.WithDialContext(d.DialContext))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func startDockersim(t testing.TB) *dockersim.Host {
	t.Helper()
	h, err := dockersim.Start(context.Background(), dockersim.WithName("h1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

const dockerSock = "/var/run/docker.sock"

// requireDocker skips when the machine's dockerd is unreachable, unless
// DROVER_REQUIRE_DOCKER=1.
func requireDocker(t *testing.T) {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(t.Context(), "unix", dockerSock)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("DROVER_REQUIRE_DOCKER") == "1" {
		t.Fatalf("real Docker daemon required (DROVER_REQUIRE_DOCKER=1) but %s is unreachable: %v", dockerSock, err)
	}
	t.Skipf("real Docker daemon unreachable at %s (%v); set DROVER_REQUIRE_DOCKER=1 to fail instead", dockerSock, err)
}
