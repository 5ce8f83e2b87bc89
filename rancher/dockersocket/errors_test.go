package dockersocket_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rancher/dockersocket"
	"github.com/moby/moby/client"
)

func ping(t *testing.T, d *dockersocket.Dialer) error {
	t.Helper()
	_, err := mobyClient(t, d).Ping(t.Context(), client.PingOptions{})
	return err
}

// TestDialErrors: every failure of the path Rancher -> relay -> dockerd
// reaches the moby client's caller as the package's typed error, over real
// HTTP against the simulator and its fault knobs, and no error holds a token.
func TestDialErrors(t *testing.T) {
	t.Parallel()
	dh := startDockersim(t)
	const secret = "s3cr3t-t0ken"
	for _, tc := range []struct {
		name   string
		dialer func(t *testing.T, r *rig) *dockersocket.Dialer
		want   error
		status int // the status of Rancher's refusal the error names, if any
	}{
		{"restricted key: no action", func(t *testing.T, r *rig) *dockersocket.Dialer {
			k := ranchersim.Keys{Access: "ro", Secret: "ro-secret"}
			if err := r.project.AddKeys(k, "restricted"); err != nil {
				t.Fatal(err)
			}
			return r.dialer(t, k)
		}, dockersocket.ErrActionMissing, 0},
		{"action refused 403", func(t *testing.T, r *rig) *dockersocket.Dialer {
			d := r.dialer(t, envKeys)
			r.srv.RefuseDockerSocket(http.StatusForbidden)
			return d
		}, dockersocket.ErrActionMissing, 403},
		{"action refused 422", func(t *testing.T, r *rig) *dockersocket.Dialer {
			d := r.dialer(t, envKeys)
			r.srv.RefuseDockerSocket(http.StatusUnprocessableEntity)
			return d
		}, dockersocket.ErrHostNotActive, 422},
		{"agent disconnected, host read before", func(t *testing.T, r *rig) *dockersocket.Dialer {
			d := r.dialer(t, envKeys)
			if err := r.srv.DisconnectAgent("h1", true); err != nil {
				t.Fatal(err)
			}
			return d
		}, dockersocket.ErrRelayClosed, 0},
		{"agent disconnected, host read after", func(t *testing.T, r *rig) *dockersocket.Dialer {
			if err := r.srv.DisconnectAgent("h1", true); err != nil {
				t.Fatal(err)
			}
			return r.dialer(t, envKeys)
		}, dockersocket.ErrHostNotActive, 0},
		{"bad token", func(t *testing.T, r *rig) *dockersocket.Dialer {
			return &dockersocket.Dialer{Access: func(context.Context) (string, string, error) {
				return "ws" + strings.TrimPrefix(r.srv.URL(), "http") + "/v1/dockersocket/", secret, nil
			}}
		}, dockersocket.ErrTokenRefused, 0},
		{"used token", func(t *testing.T, r *rig) *dockersocket.Dialer {
			rc, h := r.hostResource(t, envKeys)
			u, tok, err := rc.HostAccess(t.Context(), h)
			if err != nil {
				t.Fatal(err)
			}
			d := &dockersocket.Dialer{Access: func(context.Context) (string, string, error) { return u, tok, nil }}
			c, err := d.DialContext(t.Context(), "tcp", "")
			if err != nil {
				t.Fatalf("first use of the token: %v", err)
			}
			c.Close()
			return d
		}, dockersocket.ErrTokenRefused, 0},
		{"ws from an https server", func(t *testing.T, r *rig) *dockersocket.Dialer {
			d := r.dialer(t, envKeys)
			d.RequireTLS = true
			return d
		}, dockersocket.ErrInsecureURL, 0},
		{"relay unreachable", func(t *testing.T, r *rig) *dockersocket.Dialer {
			return &dockersocket.Dialer{Access: func(context.Context) (string, string, error) {
				return "ws://127.0.0.1:1/v1/dockersocket/", secret, nil
			}}
		}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, ranchersim.DialTCP(dh.Addr()))
			err := ping(t, tc.dialer(t, r))
			if err == nil {
				t.Fatal("ping succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("ping: %v, want %v", err, tc.want)
			}
			if tc.status != 0 && !strings.Contains(err.Error(), "dockersocket action "+strconv.Itoa(tc.status)+" ") {
				t.Errorf("ping: %v, want Rancher's %d named", err, tc.status)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "token=") {
				t.Errorf("error holds the token: %v", err)
			}
		})
	}
}

// TestRelayDropMidPull: the relay cut mid-stream (rancher fault relay-drop)
// surfaces as ErrRelayClosed while reading the pull, and the retried pull, on
// a fresh websocket and token, completes.
func TestRelayDropMidPull(t *testing.T) {
	t.Parallel()
	dh := startDockersim(t)
	r := newRig(t, ranchersim.DialTCP(dh.Addr()))
	cli := mobyClient(t, r.dialer(t, envKeys))
	reg := startRegistry(t)
	ref := reg.Ref("drop/app:1")
	pull := func() error {
		resp, err := cli.ImagePull(t.Context(), ref, client.ImagePullOptions{RegistryAuth: registryAuth(t, reg.Addr)})
		if err != nil {
			return err
		}
		for _, err := range resp.JSONMessages(t.Context()) {
			if err != nil {
				return err
			}
		}
		return nil
	}
	r.srv.DropRelayAfter(600)
	if err := pull(); !errors.Is(err, dockersocket.ErrRelayClosed) {
		t.Fatalf("pull over a relay dropped after 600 bytes: %v, want ErrRelayClosed", err)
	}
	if err := pull(); err != nil {
		t.Fatalf("retried pull: %v", err)
	}
	if n := r.actions.Load(); n != 2 {
		t.Errorf("%d dockersocket actions, want 2 (one per websocket)", n)
	}
}
