package rollout_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// preUpgrade upgrades svc of env to image straight through the client, as
// an earlier, interrupted run would have, and leaves it upgraded.
func (f *fleet) preUpgrade(t *testing.T, env string, svc *ranchersim.Service, image string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conns := adapt.NewConnections(f.inv, f.l.Getenv)
	defer conns.Close()
	r, err := conns.Connect(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	u := rollout.Upgrade{Strategy: rollout.Strategy{BatchSize: 2, IntervalMillis: 100}, Image: image}
	if _, err := r.Upgrade(ctx, svc.ID(), u); err != nil {
		t.Fatalf("pre-upgrade %s %s: %v", env, svc.ID(), err)
	}
	if err := svc.WaitState(ctx, "upgraded"); err != nil {
		t.Fatalf("pre-upgrade %s %s: %v", env, svc.ID(), err)
	}
}

// opsOn lists "op svcNN" for env's write calls, in order.
func (f *fleet) opsOn(env string) []string {
	var out []string
	for _, w := range f.writes.writes(env + " ") {
		_, rest, _ := strings.Cut(w, " ")
		op, id, _ := strings.Cut(rest, " ")
		for i, s := range f.svcs[env] {
			if s.ID() == id {
				id = f.name(i)
			}
		}
		out = append(out, op+" "+id)
	}
	return out
}

// TestLabPending: a service left upgraded by an earlier run (here straight
// through the client) meets each --on-pending policy over real HTTP.
func TestLabPending(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 4, hosts: 2, services: 3})
	f.prewarm(t, nil)
	// dev (finish): svc00 pending at the target, svc01 pending at app:1.2.
	f.preUpgrade(t, "dev", f.svcs["dev"][0], f.region("dev")+"/app:1.1")
	f.preUpgrade(t, "dev", f.svcs["dev"][1], f.region("dev")+"/app:1.2")
	for _, env := range []string{"qa", "demo"} {
		f.preUpgrade(t, env, f.svcs[env][0], f.region(env)+"/app:1.1")
	}
	f.http.reset()

	t.Run("policies", func(t *testing.T) {
		tests := []struct {
			env      string
			policy   rollout.PendingPolicy
			wantOps  [][]string // per service, in order
			outcomes []string
		}{
			{env: "dev", policy: rollout.PendingFinish,
				wantOps:  [][]string{{"finish svc00"}, {"finish svc01", "upgrade svc01", "finish svc01"}, {"upgrade svc02", "finish svc02"}},
				outcomes: []string{rollout.OutcomeUnchanged, rollout.OutcomeFinished, rollout.OutcomeFinished}},
			{env: "qa", policy: rollout.PendingRollback,
				wantOps:  [][]string{{"rollback svc00", "upgrade svc00", "finish svc00"}, {"upgrade svc01", "finish svc01"}, {"upgrade svc02", "finish svc02"}},
				outcomes: []string{rollout.OutcomeFinished, rollout.OutcomeFinished, rollout.OutcomeFinished}},
			{env: "demo", policy: rollout.PendingAbort, wantOps: [][]string{nil, nil, nil}},
		}
		for _, tt := range tests {
			t.Run(string(tt.policy), func(t *testing.T) {
				t.Parallel()
				rep, err := f.engine(t, rollout.WithOnPending(tt.policy)).Apply(t.Context(), f.targets(t, tt.env))
				ops := f.opsOn(tt.env)
				for i, want := range tt.wantOps {
					var got []string
					for _, op := range ops {
						if strings.HasSuffix(op, " "+f.name(i)) {
							got = append(got, op)
						}
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s writes %v, want %v (all: %v)", f.name(i), got, want, ops)
					}
				}
				if tt.policy == rollout.PendingAbort {
					checkPendingAbort(t, f, tt.env, rep, err)
					return
				}
				if err != nil {
					t.Fatalf("Apply: %v\n%s", err, rep)
				}
				for i, s := range rep.Envs[0].Services {
					if s.Outcome != tt.outcomes[i] {
						t.Errorf("%s outcome %s, want %s", s.Service, s.Outcome, tt.outcomes[i])
					}
				}
				want := f.region(tt.env) + "/app:1.1"
				for i, s := range f.svcs[tt.env] {
					if st := s.Status(); st.State != "active" || st.Image != want {
						t.Errorf("%s: %s %s, want active %s", f.name(i), st.State, st.Image, want)
					}
				}
			})
		}
	})
	// Nothing above tried an upgrade on a service sitting in upgraded (the
	// 422 of the state table): no request was refused at all.
	if refused := f.http.lines(" 422"); len(refused) > 0 {
		t.Errorf("requests refused with 422: %v", refused)
	}

	t.Run("422 not retried", func(t *testing.T) {
		env := f.inv.Environments[3].Name // dmz-<region>, wave 3
		f.l.Rancher.FailNextAction(http.StatusUnprocessableEntity)
		e := f.engine(t, rollout.WithOnPending(rollout.PendingFinish), rollout.WithEnvConcurrency(1))
		tg := f.targets(t, env)
		tg[0].Concurrency = 1
		rep, err := e.Apply(t.Context(), tg)
		var fail *rollout.Failure
		if !errors.As(err, &fail) || fail.Env != env || fail.Service != "web/svc00" {
			t.Fatalf("err = %v, want a failure of %s web/svc00", err, env)
		}
		if !strings.Contains(fail.Cause, "422") && !strings.Contains(fail.Cause, "not available") {
			t.Errorf("cause %q does not say the action was refused", fail.Cause)
		}
		id := f.svcs[env][0].ID()
		posts := f.http.lines("POST ", "/services/"+id, "action=upgrade")
		if len(posts) != 1 || !strings.HasSuffix(posts[0], " 422") {
			t.Errorf("upgrade POSTs for svc00: %v, want exactly one, refused with 422", posts)
		}
		if got := f.opsOn(env); !slices.Equal(got, []string{"upgrade svc00"}) {
			t.Errorf("writes %v, want the one refused upgrade (no retry, nothing after it)", got)
		}
		if rep.Envs[0].Status != rollout.EnvFailed {
			t.Errorf("status %s, want failed", rep.Envs[0].Status)
		}
		for i, s := range f.svcs[env] {
			if st := s.Status(); st.State != "active" || !strings.HasSuffix(st.Image, "/app:1.0") {
				t.Errorf("%s: %s %s, want active app:1.0", f.name(i), st.State, st.Image)
			}
		}
	})
}

func checkPendingAbort(t *testing.T, f *fleet, env string, rep *rollout.Report, err error) {
	t.Helper()
	var fail *rollout.Failure
	if !errors.As(err, &fail) || fail.Env != env || fail.Service != "web/svc00" {
		t.Fatalf("err = %v, want a failure of %s web/svc00", err, env)
	}
	for _, cmd := range []string{
		"`rollout finish --env " + env + " --service web/svc00`",
		"`rollout rollback --env " + env + " --service web/svc00`",
		"--on-pending finish|rollback",
	} {
		if !strings.Contains(err.Error(), cmd) {
			t.Errorf("error %q does not name %s", err, cmd)
		}
	}
	if n := f.writes.count(env + " "); n != 0 {
		t.Errorf("%d write calls in %s, want none", n, env)
	}
	if posts := f.http.lines("POST ", "/projects/"+f.l.Project(env).ID()+"/"); len(posts) != 0 {
		t.Errorf("POSTs in %s: %v", env, posts)
	}
	if st := f.svcs[env][0].Status(); st.State != "upgraded" {
		t.Errorf("svc00 is %s, want left upgraded", st.State)
	}
	if rep.Envs[0].Status != rollout.EnvFailed {
		t.Errorf("status %s, want failed", rep.Envs[0].Status)
	}
}
