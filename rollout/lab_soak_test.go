package rollout_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/drover-dev/drover/rollout"
)

// TestLabSoakWithoutHealth: once the upgraded service is healthy, Rancher
// answers every request 503 for the whole soak. The soak sees no health,
// runs to its deadline and fails; the upgrade is rolled back (Rancher is
// back by then) and nothing is finished. It used to skip the failed reads
// and finish the service.
func TestLabSoakWithoutHealth(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 1, hosts: 2, services: 1})
	f.prewarm(t, nil)
	injected := false
	f.onEvent = func(ev rollout.Event) {
		switch {
		case ev.Step == "verify" && strings.HasPrefix(ev.Message, "healthy; soaking"):
			injected = true
			f.l.Rancher.FailRequests(1<<30, http.StatusServiceUnavailable)
		case ev.Step == "failed" || ev.Step == "finish":
			f.l.Rancher.FailRequests(0, http.StatusServiceUnavailable)
		}
	}
	rep, err := f.engine(t).Apply(t.Context(), f.targets(t))
	if !injected {
		t.Fatal("the soak never started")
	}
	var fail *rollout.Failure
	if !errors.As(err, &fail) || fail.Env != "dev" || fail.Service != "web/svc00" || fail.NeedsHuman {
		t.Fatalf("err = %v, want dev web/svc00 failed and put back\n%s", err, rep)
	}
	if !strings.Contains(fail.Cause, "health could not be read") || !strings.Contains(fail.Cause, "soak") {
		t.Errorf("cause %q does not say the soak could not read health", fail.Cause)
	}
	if len(f.http.lines("GET ", "/services/", " 503")) == 0 {
		t.Errorf("no health read was answered 503")
	}
	if n := f.writes.count("dev finish "); n != 0 {
		t.Errorf("%d finish calls, want none", n)
	}
	if s := rep.Envs[0].Services[0]; s.Outcome != rollout.OutcomeRolledBack {
		t.Errorf("outcome %s (%s), want rolled-back", s.Outcome, s.Error)
	}
	if st := f.svcs["dev"][0].Status(); st.State != "active" || st.Image != f.region("dev")+"/app:1.0" {
		t.Errorf("svc00: %s %s, want active app:1.0", st.State, st.Image)
	}
}
