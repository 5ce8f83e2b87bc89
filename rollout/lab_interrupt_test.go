package rollout_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/rollout"
)

// TestLabInterrupt: Ctrl-C while dev's first service is upgrading. The
// first signal starts nothing new and brings the in-flight service to rest
// (rolled back, or finished, per --on-interrupt); a second signal leaves it
// where it is and the report names it with the command that resolves it.
func TestLabInterrupt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []rollout.Option
		abort    bool
		wantOps  []string
		wantImg  string // svc00's image after the run
		wantOut  string // svc00's outcome
		wantRest bool   // svc00 active after the run
	}{
		{name: "rollback", wantOps: []string{"upgrade svc00", "rollback svc00"}, wantImg: "app:1.0", wantOut: rollout.OutcomeRolledBack, wantRest: true},
		{name: "finish", opts: []rollout.Option{rollout.WithOnInterrupt(rollout.PendingFinish)},
			wantOps: []string{"upgrade svc00", "finish svc00"}, wantImg: "app:1.1", wantOut: rollout.OutcomeFinished, wantRest: true},
		{name: "second signal", abort: true, wantOps: []string{"upgrade svc00"}, wantImg: "app:1.1", wantOut: rollout.OutcomeStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFleet(t, fleetConfig{envs: 2, hosts: 2, services: 3})
			f.prewarm(t, nil)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			abort := make(chan struct{})
			f.onEvent = func(ev rollout.Event) {
				if ev.Env == "dev" && ev.Service == "web/svc00" && ev.State == "upgrading" && ctx.Err() == nil {
					cancel() // first Ctrl-C
					if tt.abort {
						close(abort) // second Ctrl-C
					}
				}
			}
			targets := f.targets(t)
			targets[0].Concurrency = 1 // svc00 in flight, svc01 and svc02 not started
			rep, err := f.engine(t, append([]rollout.Option{rollout.WithAbort(abort)}, tt.opts...)...).Apply(ctx, targets)
			if err == nil || !rep.Interrupted {
				t.Fatalf("err = %v, interrupted = %v", err, rep.Interrupted)
			}
			if got := f.opsOn("dev"); !slices.Equal(got, tt.wantOps) {
				t.Errorf("dev writes %v, want %v", got, tt.wantOps)
			}
			if n := f.writes.count("qa "); n != 0 || rep.Envs[1].Status != rollout.EnvNotStarted {
				t.Errorf("qa: %d writes, status %s; want none, not-started", n, rep.Envs[1].Status)
			}
			dev := rep.Envs[0]
			if s := dev.Services[0]; s.Outcome != tt.wantOut {
				t.Errorf("svc00 outcome %s (%s), want %s", s.Outcome, s.Error, tt.wantOut)
			}
			for i, s := range dev.Services[1:] {
				if s.Outcome != rollout.OutcomeNotStarted {
					t.Errorf("%s outcome %s, want not-started", f.name(i+1), s.Outcome)
				}
			}
			svc00 := f.svcs["dev"][0]
			if st := svc00.Status(); !strings.HasSuffix(st.Image, "/"+tt.wantImg) || (tt.wantRest && st.State != "active") {
				t.Errorf("svc00 %s %s, want %s (active: %v)", st.State, st.Image, tt.wantImg, tt.wantRest)
			}
			for i, s := range f.svcs["dev"][1:] {
				if st := s.Status(); st.State != "active" || !strings.HasSuffix(st.Image, "/app:1.0") {
					t.Errorf("%s %s %s, want untouched", f.name(i+1), st.State, st.Image)
				}
			}
			if tt.wantRest {
				if !errors.Is(err, rollout.ErrInterrupted) || rep.NeedsHuman() || len(rep.Unresolved()) != 0 {
					t.Errorf("err %v, needs human %v, unresolved %+v: want a clean interrupt", err, rep.NeedsHuman(), rep.Unresolved())
				}
				if dev.Status != rollout.EnvInterrupted {
					t.Errorf("dev status %s, want interrupted", dev.Status)
				}
				return
			}
			// Second signal: svc00 was left mid-upgrade; the report says so
			// and gives the command, and that command puts it back.
			u := rep.Unresolved()
			want := "rollout rollback --env dev --service web/svc00"
			if !rep.NeedsHuman() || len(u) != 1 || u[0].Service != "web/svc00" || u[0].State == "active" || u[0].Command != want {
				t.Fatalf("unresolved %+v (needs human %v), want web/svc00 not active with %q", u, rep.NeedsHuman(), want)
			}
			if !slices.Contains(rep.Commands(), want) {
				t.Errorf("commands %v lack %q", rep.Commands(), want)
			}
			if !strings.Contains(err.Error(), "environment dev service web/svc00") || !strings.Contains(err.Error(), "needs a human") {
				t.Errorf("err %v, want it to name dev web/svc00 as needing a human", err)
			}
			rb := f.targets(t, "dev")
			rb[0].Services = rb[0].Services[:1]
			if rrep, err := f.engine(t).Rollback(t.Context(), rb); err != nil {
				t.Fatalf("rollback: %v\n%s", err, rrep)
			}
			if st := svc00.Status(); st.State != "active" || !strings.HasSuffix(st.Image, "/app:1.0") {
				t.Errorf("after the rollback command svc00 is %s %s", st.State, st.Image)
			}
		})
	}
}
