package dockersim_test

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/dockersim/dockertest"
)

// TestConformanceSim runs the Engine API conformance suite against a
// simulated host.
func TestConformanceSim(t *testing.T) {
	t.Parallel()
	h, err := dockersim.Start(t.Context(), dockersim.WithName("conformance"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	dockertest.Run(t, dockertest.Target{Endpoint: h.Endpoint(), APIVersion: dockersim.APIVersion})
}

const dockerSock = "/var/run/docker.sock"

// TestConformanceRealDocker runs the same suite against the machine's
// dockerd (20.10, API 1.41). It skips when the daemon is unreachable,
// unless DROVER_REQUIRE_DOCKER=1.
func TestConformanceRealDocker(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	dockertest.Run(t, dockertest.Target{Endpoint: "unix://" + dockerSock, APIVersion: dockersim.APIVersion})
}

func requireDocker(t *testing.T) {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(context.Background(), "unix", dockerSock)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("DROVER_REQUIRE_DOCKER") == "1" {
		t.Fatalf("real Docker daemon required (DROVER_REQUIRE_DOCKER=1) but %s is unreachable: %v", dockerSock, err)
	}
	t.Skipf("real Docker daemon unreachable at %s (%v); set DROVER_REQUIRE_DOCKER=1 to fail instead", dockerSock, err)
}
