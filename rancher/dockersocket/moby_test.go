package dockersocket_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab/dockersim/dockertest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
)

func registryAuth(t *testing.T, addr string) string {
	t.Helper()
	b, err := json.Marshal(registry.AuthConfig{Username: dockertest.User, Password: dockertest.Password, ServerAddress: addr})
	if err != nil {
		t.Fatal(err)
	}
	return base64.URLEncoding.EncodeToString(b)
}

// pullInspectRemove runs ping, a pull of a private image with credentials
// (the progress stream read to its end), an image inspect and a remove over
// cli, as prewarm's verbs do.
func pullInspectRemove(t *testing.T, cli *client.Client, repo string) {
	t.Helper()
	ctx := t.Context()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatalf("ping through the relay: %v", err)
	}
	reg := dockertest.StartRegistry(t, true)
	img := dockertest.RandomImage(t, 64<<10, 3)
	reg.Push(t, repo, img)
	ref := reg.Ref(repo)
	if _, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{}); err == nil {
		// Some engines answer 200 and put the auth error in the stream; the
		// authenticated pull below is what must work.
		t.Log("pull without credentials was accepted at the HTTP level")
	}
	resp, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{RegistryAuth: registryAuth(t, reg.Addr)})
	if err != nil {
		t.Fatalf("pull %s through the relay: %v", ref, err)
	}
	var msgs []jsonstream.Message
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			t.Fatalf("pull %s: reading the progress stream through the relay: %v", ref, err)
		}
		msgs = append(msgs, m)
	}
	if len(msgs) < 3 {
		t.Fatalf("pull %s: %d progress messages, want the whole stream", ref, len(msgs))
	}
	if last := msgs[len(msgs)-1]; last.Error != nil || !strings.HasPrefix(last.Status, "Status: Downloaded newer image") {
		t.Fatalf("pull %s ended with %+v", ref, last)
	}
	t.Cleanup(func() { _, _ = cli.ImageRemove(t.Context(), ref, client.ImageRemoveOptions{Force: true}) })
	res, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatalf("inspect %s through the relay: %v", ref, err)
	}
	want, _ := img.ConfigName()
	if res.ID != want.String() {
		t.Errorf("inspect %s: ID %s, want %s", ref, res.ID, want)
	}
	if _, err := cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{}); err != nil {
		t.Fatalf("remove %s through the relay: %v", ref, err)
	}
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		t.Errorf("inspect %s after remove succeeded", ref)
	}
}

// TestMobyOverRelaySim: the moby client, given only the dialer, pings,
// pulls with X-Registry-Auth and the progress stream, inspects and removes
// on a simulated Docker host reached through the Rancher simulator's relay.
func TestMobyOverRelaySim(t *testing.T) {
	t.Parallel()
	dh := startDockersim(t)
	r := newRig(t, ranchersim.DialTCP(dh.Addr()))
	d := r.dialer(t, envKeys)
	pullInspectRemove(t, mobyClient(t, d), "relay/app:1")
	if n := r.actions.Load(); n < 1 {
		t.Errorf("%d dockersocket actions, want one per connection", n)
	}
	if st := dh.Stats(); st.Pulls < 1 || st.Inspects < 1 {
		t.Errorf("dockersim saw %d pulls, %d inspects; want the requests to have crossed the relay", st.Pulls, st.Inspects)
	}
}

// TestMobyOverRelayRealDocker: the same against the machine's dockerd, the
// simulator's agent relaying to /var/run/docker.sock.
func TestMobyOverRelayRealDocker(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	r := newRig(t, ranchersim.DialUnix(dockerSock))
	pullInspectRemove(t, mobyClient(t, r.dialer(t, envKeys)), "drover-relay-test/app:1")
}

// startRegistry is a private registry holding drop/app:1.
func startRegistry(t *testing.T) *dockertest.Registry {
	t.Helper()
	reg := dockertest.StartRegistry(t, true)
	reg.Push(t, "drop/app:1", dockertest.RandomImage(t, 64<<10, 3))
	return reg
}
