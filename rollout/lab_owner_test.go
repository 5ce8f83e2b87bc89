package rollout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// TestLabRefusedUpgradeIsNotOurs: another operator starts an upgrade of
// svc00 (to app:1.2, which never turns healthy, so it stays upgrading)
// between the engine's pre-flight and its upgrade call. Rancher refuses
// the engine's call with 422; the environment fails, and its failure
// handling rolls back only what this run upgraded (svc01), never the other
// operator's upgrade of svc00, and the error says who holds svc00. The
// engine used to mark svc00 started before the call and roll that upgrade
// back. When the other upgrade is to this run's own target image, it is
// not adopted either: the engine's call was refused, so it is not ours.
func TestLabRefusedUpgradeIsNotOurs(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{"1.2", "1.1"} {
		t.Run("other to app:"+tag, func(t *testing.T) {
			t.Parallel()
			testRefusedUpgrade(t, tag)
		})
	}
}

func testRefusedUpgrade(t *testing.T, tag string) {
	f := newFleet(t, fleetConfig{envs: 1, hosts: 2, services: 2})
	f.prewarm(t, nil)
	f.l.Rancher.SetNeverHealthy("*/app:1.2")
	other := f.region("dev") + "/app:" + tag
	svc00 := f.svcs["dev"][0]
	conns := adapt.NewConnections(f.inv, f.l.Getenv)
	t.Cleanup(func() { conns.Close() })
	raced := false
	f.onEvent = func(ev rollout.Event) {
		if ev.Step != "upgrade" || ev.Service != "web/svc00" || raced || ev.Message == "" {
			return
		}
		raced = true
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		r, err := conns.Connect(ctx, "dev")
		if err != nil {
			t.Errorf("connect: %v", err)
			return
		}
		u := rollout.Upgrade{Strategy: rollout.Strategy{BatchSize: 1, IntervalMillis: 100}, Image: other}
		if _, err := r.Upgrade(ctx, svc00.ID(), u); err != nil {
			t.Errorf("the other operator's upgrade: %v", err)
		}
	}
	rep, err := f.engine(t).Apply(t.Context(), f.targets(t))
	if !raced {
		t.Fatal("the other upgrade was never started")
	}
	var fail *rollout.Failure
	if !errors.As(err, &fail) || fail.Env != "dev" || fail.Service != "web/svc00" {
		t.Fatalf("err = %v, want a failure of dev web/svc00\n%s", err, rep)
	}
	for _, want := range []string{"not available", "rejected by rancher", " at " + other, "another upgrade is in progress", "left untouched"} {
		if !strings.Contains(fail.Cause, want) {
			t.Errorf("cause %q does not say %q", fail.Cause, want)
		}
	}
	if fail.NeedsHuman {
		t.Errorf("failure needs a human: %+v", fail)
	}
	// The client refuses an action missing from the service's actions map
	// without a request; a request the server refuses is the same 422.
	for _, p := range f.http.lines("POST ", "/services/"+svc00.ID()+"/") {
		if !strings.Contains(p, "action=upgrade") || !strings.HasSuffix(p, " 422") {
			t.Errorf("the engine's request %q on svc00, want none but a refused upgrade", p)
		}
	}
	if st := svc00.Status(); (st.State != "upgrading" && st.State != "upgraded") || st.Image != other {
		t.Errorf("svc00: %s %s, want the other operator's upgrade to %s left pending", st.State, st.Image, other)
	}
	// svc01 was this run's: rolled back (or never sent, if svc00's
	// failure came first).
	if st := f.svcs["dev"][1].Status(); st.State != "active" || st.Image != f.region("dev")+"/app:1.0" {
		t.Errorf("svc01: %s %s, want rolled back to app:1.0", st.State, st.Image)
	}
	for _, s := range rep.Envs[0].Services {
		want := map[string]string{"web/svc00": rollout.OutcomeFailed, "web/svc01": rollout.OutcomeRolledBack}[s.Service]
		if s.Service == "web/svc01" && (s.Outcome == rollout.OutcomeUnchanged || s.Outcome == rollout.OutcomeStopped) {
			continue // stopped before its call was sent
		}
		if s.Outcome != want {
			t.Errorf("%s outcome %s (%s), want %s", s.Service, s.Outcome, s.Error, want)
		}
	}
}
