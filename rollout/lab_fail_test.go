package rollout_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/rollout"
)

// TestLabUnhealthyRollsBack: the new image never turns healthy, so the
// first wave's upgrades time out and are rolled back by the engine; later
// waves see no write call.
func TestLabUnhealthyRollsBack(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 3, hosts: 2, services: 3})
	for i := range f.rel.Services {
		f.rel.Services[i].Image = "bad" // app:1.2
	}
	f.prewarm(t, nil)
	f.l.Rancher.SetNeverHealthy("*/app:1.2")
	rep, err := f.engine(t, rollout.WithUpgradeTimeout(3*time.Second)).Apply(t.Context(), f.targets(t))
	var fail *rollout.Failure
	if !errors.As(err, &fail) {
		t.Fatalf("err = %v, want a *Failure", err)
	}
	if fail.Env != "dev" || !strings.HasPrefix(fail.Service, "web/svc") || !strings.Contains(fail.Cause, "upgrade timeout") || fail.NeedsHuman {
		t.Errorf("failure %+v, want dev, a web service, the upgrade timeout, put back", fail)
	}
	if !strings.Contains(err.Error(), "environment dev service "+fail.Service) {
		t.Errorf("error %q does not name env and service", err)
	}
	dev := rep.Envs[0]
	if dev.Env != "dev" || dev.Status != rollout.EnvFailed || dev.Service != fail.Service {
		t.Errorf("dev report %s %s %s", dev.Env, dev.Status, dev.Service)
	}
	for _, s := range dev.Services {
		if s.Outcome != rollout.OutcomeRolledBack && s.Outcome != rollout.OutcomeUnchanged {
			t.Errorf("%s outcome %s (%s), want rolled-back", s.Service, s.Outcome, s.Error)
		}
		if s.State != "active" || s.Command != "" {
			t.Errorf("%s reported %s with command %q, want active", s.Service, s.State, s.Command)
		}
		// A service stopped by the first failure says so; it does not
		// repeat that failure as its own.
		if s.Service != fail.Service && strings.HasSuffix(s.Error, ": "+fail.Cause) {
			t.Errorf("%s error %q, want it stopped by %s, not failed with its cause", s.Service, s.Error, fail.Service)
		}
	}
	if len(rep.Unresolved()) != 0 {
		t.Errorf("unresolved %+v", rep.Unresolved())
	}
	ups, rbs := f.writes.count("dev upgrade "), f.writes.count("dev rollback ")
	if ups == 0 || rbs != ups || f.writes.count("dev finish ") != 0 {
		t.Errorf("dev writes %v: want every upgrade rolled back, no finish", f.writes.writes("dev "))
	}
	want := f.region("dev") + "/app:1.0"
	for i, s := range f.svcs["dev"] {
		if st := s.Status(); st.State != "active" || st.Image != want {
			t.Errorf("dev %s: %s %s, want active %s", f.name(i), st.State, st.Image, want)
		}
	}
	for _, er := range rep.Envs[1:] {
		if er.Status != rollout.EnvNotStarted {
			t.Errorf("%s status %s, want not-started", er.Env, er.Status)
		}
		if n := f.writes.count(er.Env + " "); n != 0 {
			t.Errorf("%s: %d write calls, want none", er.Env, n)
		}
		if posts := f.http.lines("POST ", "/projects/"+f.l.Project(er.Env).ID()+"/"); len(posts) != 0 {
			t.Errorf("%s POSTs %v", er.Env, posts)
		}
	}
}

// TestLabGateHolds: one host of qa lacks the image, so with a gate timeout
// of 0 qa fails at the gate without a single Rancher write call, and the
// wave after it does not start.
func TestLabGateHolds(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 3, hosts: 2, services: 2})
	f.prewarm(t, nil, "qa-02")
	rep, err := f.engine(t).Apply(t.Context(), f.targets(t))
	var fail *rollout.Failure
	if !errors.As(err, &fail) || fail.Env != "qa" {
		t.Fatalf("err = %v, want a failure of qa", err)
	}
	if !strings.Contains(fail.Cause, "gate closed") || !strings.Contains(fail.Cause, "qa-02: "+f.region("qa")+"/app:1.1") {
		t.Errorf("cause %q does not name the host and image missing", fail.Cause)
	}
	got := map[string]rollout.EnvStatus{}
	for _, er := range rep.Envs {
		got[er.Env] = er.Status
	}
	if got["dev"] != rollout.EnvDone || got["qa"] != rollout.EnvGated || got["demo"] != rollout.EnvNotStarted {
		t.Errorf("statuses %v, want dev done, qa gated, demo not-started", got)
	}
	qa := rep.Envs[1]
	if qa.Gate == nil || qa.Gate.Open || len(qa.Gate.Missing) != 1 || qa.Gate.Missing[0].Host != "qa-02" {
		t.Errorf("qa gate %+v, want closed on qa-02", qa.Gate)
	}
	if n := f.writes.count("dev upgrade "); n != 2 {
		t.Errorf("dev: %d upgrades, want 2", n)
	}
	for _, env := range []string{"qa", "demo"} {
		if n := f.writes.count(env + " "); n != 0 {
			t.Errorf("%s: %d write calls, want none", env, n)
		}
		if posts := f.http.lines("POST ", "/projects/"+f.l.Project(env).ID()+"/"); len(posts) != 0 {
			t.Errorf("%s POSTs %v", env, posts)
		}
		for i, s := range f.svcs[env] {
			if st := s.Status(); st.State != "active" || !strings.HasSuffix(st.Image, "/app:1.0") {
				t.Errorf("%s %s: %s %s, want untouched", env, f.name(i), st.State, st.Image)
			}
		}
	}
}
