package rollout_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/drover-dev/drover/rollout"
)

// TestLabRancherFaults: a burst of 503s and dropped websockets while
// services are being waited on (mid-verify in dev, mid-upgrade in qa), and
// a Rancher restart (mid-verify in demo), do not stop the rollout.
func TestLabRancherFaults(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 3, hosts: 2, services: 3})
	f.prewarm(t, nil)
	injected := map[string]bool{}
	f.onEvent = func(ev rollout.Event) {
		switch {
		case ev.Env == "dev" && ev.Step == "verify" && !injected["dev"]:
			injected["dev"] = true
			f.l.Rancher.FailRequests(5, http.StatusServiceUnavailable)
			f.l.Rancher.DropWebsockets()
		case ev.Env == "qa" && ev.Step == "upgrade" && !injected["qa"] &&
			len(f.http.lines("/projects/"+f.l.Project("qa").ID()+"/subscribe", " 101")) > 0:
			// mid-upgrade, once the wait's websocket is up
			injected["qa"] = true
			f.l.Rancher.DropWebsockets()
			f.l.Rancher.FailRequests(5, http.StatusBadGateway)
		case ev.Env == "demo" && ev.Step == "verify" && !injected["demo"]:
			injected["demo"] = true
			if err := f.l.Rancher.Restart(); err != nil {
				t.Errorf("restart: %v", err)
			}
		}
	}
	// The soak is long enough to ride out the burst of five failed reads
	// with room to spare on a loaded machine (CI once saw four failed
	// reads take 530 ms of a 300 ms soak's 600 ms deadline); the soak's own
	// accounting of failed reads is TestLabSoakWithoutHealth's subject.
	rep, err := f.engine(t, rollout.WithSoak(time.Second)).Apply(t.Context(), f.targets(t))
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, rep)
	}
	if !injected["dev"] || !injected["qa"] || !injected["demo"] {
		t.Fatalf("faults injected: %v", injected)
	}
	if n503, n502 := len(f.http.lines(" 503")), len(f.http.lines(" 502")); n503 != 5 || n502 != 5 {
		t.Errorf("requests answered 503: %d, 502: %d; want the two bursts of 5", n503, n502)
	}
	for _, env := range []string{"dev", "qa", "demo"} {
		subs := f.http.lines("GET ", "/projects/"+f.l.Project(env).ID()+"/subscribe", " 101")
		if len(subs) < 2 {
			t.Errorf("%s: %d websocket handshakes, want a reconnect after the drop", env, len(subs))
		}
	}
	checkWaveOrder(t, f, rep)
	for env, ss := range f.svcs {
		want := f.region(env) + "/app:1.1"
		for i, s := range ss {
			if st := s.Status(); st.State != "active" || st.Image != want {
				t.Errorf("%s %s: %s %s, want active %s", env, f.name(i), st.State, st.Image, want)
			}
		}
	}
	if u := rep.Unresolved(); len(u) > 0 {
		t.Errorf("unresolved %+v", u)
	}
}

// TestLabRancherFaultsAtConnect: a 5xx burst as an environment connects
// (the project lookup) is ridden out like any other read; it used to fail
// the environment on the first 503.
func TestLabRancherFaultsAtConnect(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 2, hosts: 1, services: 2})
	f.prewarm(t, nil)
	f.l.Rancher.FailRequests(3, http.StatusServiceUnavailable)
	rep, err := f.engine(t).Apply(t.Context(), f.targets(t))
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, rep)
	}
	if got := f.http.lines("GET /v2-beta/projects ", " 503"); len(got) != 3 {
		t.Errorf("project lookups answered 503: %v, want the burst of 3", got)
	}
	checkWaveOrder(t, f, rep)
}
