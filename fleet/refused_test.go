package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher/dockersocket"
)

// TestRefusedRelay: what Rancher's relay refuses for good (the key's
// dockersocket action, the relay's token, a ws:// URL from an https
// server) is Refused, as a presence check's cell error too (rollout's gate
// closes at once on it), and named with the host, its environment and
// what to change; a dropped relay and an agent that is away are not.
func TestRefusedRelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sentinel error
		refused  bool
		advice   string
	}{
		{dockersocket.ErrActionMissing, true, "set $QA_ACCESS_KEY / $QA_SECRET_KEY to such a key"},
		{dockersocket.ErrTokenRefused, true, "proxy in front of Rancher"},
		{dockersocket.ErrInsecureURL, true, "api.host"},
		{dockersocket.ErrRelayClosed, false, ""},
		{dockersocket.ErrHostNotActive, false, ""},
	} {
		t.Run(tc.sentinel.Error(), func(t *testing.T) {
			t.Parallel()
			host := Target{Name: "h00", Env: "qa", Registry: "reg.example", Rancher: &ViaRancher{
				Keys: "$QA_ACCESS_KEY / $QA_SECRET_KEY",
				Dial: func(context.Context, string, string) (net.Conn, error) {
					return nil, fmt.Errorf("dockersocket: host h00: %w", tc.sentinel)
				},
			}}
			cells, err := Check(t.Context(), host, []inventory.LockImage{{Name: "app", Ref: "reg.example/app:1", Repository: "app", Tag: "1",
				Digest: "sha256:" + strings.Repeat("a", 64)}}, WithRetries(0))
			if err != nil || len(cells) != 1 {
				t.Fatalf("check: %v, %d cells", err, len(cells))
			}
			c := cells[0]
			if c.State != StateUnreachable || !errors.Is(c.Err(), tc.sentinel) {
				t.Fatalf("cell %+v (%v): want unreachable, wrapping %v", c, c.Err(), tc.sentinel)
			}
			if got := Refused(c.Err()); got != tc.refused {
				t.Errorf("Refused(%v) = %v, want %v", c.Err(), got, tc.refused)
			}
			msg := c.Err().Error()
			if !strings.Contains(msg, "host h00 (environment qa) through Rancher") || strings.Contains(msg, "via-rancher") ||
				(tc.advice != "" && strings.Count(msg, tc.advice) != 1) {
				t.Errorf("error %q: want host and environment named, %q once, no made-up Docker URL", msg, tc.advice)
			}
		})
	}
}

// TestPruneRelayErrorNamed: prune's calls through a relay that fails name
// the host and its environment, as pull and status do, not the moby
// client's made-up address for hosts reached through Rancher.
func TestPruneRelayErrorNamed(t *testing.T) {
	t.Parallel()
	for _, sentinel := range []error{dockersocket.ErrRelayClosed, dockersocket.ErrTokenRefused} {
		t.Run(sentinel.Error(), func(t *testing.T) {
			t.Parallel()
			host := Target{Name: "h00", Env: "qa", Rancher: &ViaRancher{
				Dial: func(context.Context, string, string) (net.Conn, error) {
					return nil, fmt.Errorf("dockersocket: host h00: %w", sentinel)
				},
			}}
			_, err := Prune(t.Context(), host, []string{"app"}, 1, nil, false)
			if err == nil || !errors.Is(err, sentinel) {
				t.Fatalf("prune: %v, want an error wrapping %v", err, sentinel)
			}
			if msg := err.Error(); !strings.Contains(msg, "host h00 (environment qa) through Rancher") || strings.Contains(msg, "via-rancher") {
				t.Errorf("error %q: want host and environment named, no made-up Docker URL", msg)
			}
		})
	}
}
