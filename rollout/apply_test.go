package rollout

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func testEngine(t *testing.T, w *world, opts ...Option) *Engine {
	t.Helper()
	base := []Option{WithGateTimeout(0), WithSoak(10 * time.Second), WithHealthInterval(time.Second), WithUpgradeTimeout(5 * time.Minute)}
	e, err := New(w.connect, w, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// threeEnvs: dev in wave 1, qa and prod in wave 2, each with web/a and web/b
// at app:1 and app:2 present on every host.
func threeEnvs(w *world) []EnvTarget {
	var ts []EnvTarget
	for i, name := range []string{"dev", "qa", "prod"} {
		e := w.env(name, 3)
		e.add("web", "a", "reg/app:1", 3)
		e.add("web", "b", "reg/app:1", 2)
		w.have(name, "reg/app:2")
		ts = append(ts, target(name, min(i, 1)+1, "web/a=reg/app:2", "web/b=reg/app:2"))
	}
	return ts
}

func TestApplyHappyPath(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		ts := threeEnvs(w)
		jpath := filepath.Join(t.TempDir(), "journal.jsonl")
		j, err := OpenJournal(jpath)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		var events []Event
		e := testEngine(t, w, WithJournal(j), WithProgress(func(ev Event) { events = append(events, ev) }))
		start := time.Now()
		rep, err := e.Apply(t.Context(), ts)
		if err != nil {
			t.Fatalf("Apply: %v\n%+v", err, rep)
		}
		for _, env := range []string{"dev", "qa", "prod"} {
			for _, svc := range []string{"web/a", "web/b"} {
				got := w.envs[env].get(svc)
				if got.State != StateActive || got.Image != "reg/app:2" || got.PreviousImage != "reg/app:1" {
					t.Errorf("%s %s = %s %s (prev %s), want active reg/app:2", env, svc, got.State, got.Image, got.PreviousImage)
				}
			}
			if got, want := w.writes(env), []string{"upgrade web/a", "upgrade web/b", "finish web/a", "finish web/b"}; !sameSet(got, want) {
				t.Errorf("%s writes = %v, want %v", env, got, want)
			}
		}
		for _, er := range rep.Envs {
			if er.Status != EnvDone {
				t.Errorf("%s status %s", er.Env, er.Status)
			}
			for _, s := range er.Services {
				if s.Outcome != OutcomeFinished || s.From != "reg/app:1" || s.To != "reg/app:2" {
					t.Errorf("%s %+v", er.Env, s)
				}
			}
		}
		// Wave 2 starts only after wave 1 finished.
		var devDone, wave2Start time.Time
		for _, a := range w.log {
			if a.env == "dev" && a.op == "finish" && a.at.After(devDone) {
				devDone = a.at
			}
			if a.env != "dev" && (wave2Start.IsZero() || a.at.Before(wave2Start)) {
				wave2Start = a.at
			}
		}
		if !wave2Start.After(devDone) {
			t.Errorf("wave 2 started at %v, before dev finished at %v", wave2Start, devDone)
		}
		// web/a: 3 batches of 1 with 2s between, upgraded in parallel with web/b;
		// then a 10s soak; two waves: bounded by a few tens of fake seconds.
		if took := time.Since(start); took < 2*(4*time.Second+10*time.Second) || took > 2*time.Minute {
			t.Errorf("took %v of fake time", took)
		}
		entries, err := ReadJournal(jpath)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, en := range entries {
			counts[en.Action]++
			if en.Time.IsZero() {
				t.Errorf("entry without time: %+v", en)
			}
		}
		for act, n := range map[string]int{"run-start": 1, "gate-open": 3, "upgrade": 6, "upgraded": 6, "verified": 6, "finish": 6, "finished": 6, "run-end": 1} {
			if counts[act] != n {
				t.Errorf("journal %s = %d, want %d (%v)", act, counts[act], n, counts)
			}
		}
		if !slices.ContainsFunc(events, func(ev Event) bool { return ev.Step == "upgrade" && ev.Batches == 3 }) {
			t.Errorf("no upgrade event with 3 batches")
		}
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestApplyPending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy     PendingPolicy
		wantErr    string
		wantWrites []string
	}{
		{PendingAbort, "rollout finish --env dev --service web/a", nil},
		{PendingFinish, "", []string{"finish web/a", "upgrade web/a", "finish web/a"}},
		{PendingRollback, "", []string{"rollback web/a", "upgrade web/a", "finish web/a"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 2)
				dev.add("web", "a", "reg/app:1", 2)
				dev.set("web/a", func(s *Service) { s.State, s.PreviousImage, s.Image = StateUpgraded, "reg/app:0", "reg/app:1" })
				w.have("dev", "reg/app:2")
				e := testEngine(t, w, WithOnPending(tt.policy))
				rep, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
				if tt.wantErr != "" {
					var f *Failure
					if !errors.As(err, &f) || !strings.Contains(err.Error(), tt.wantErr) || f.NeedsHuman {
						t.Fatalf("err = %v, want a Failure naming %q", err, tt.wantErr)
					}
					if rep.Envs[0].Status != EnvFailed || rep.Envs[0].Service != "web/a" {
						t.Errorf("report %+v", rep.Envs[0])
					}
					if c := rep.Envs[0].Services[0].Command; !strings.Contains(c, "rollout finish --env dev --service web/a") {
						t.Errorf("command %q", c)
					}
				} else if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if got := w.writes("dev"); !slices.Equal(got, tt.wantWrites) {
					t.Errorf("writes = %v, want %v", got, tt.wantWrites)
				}
				if tt.wantErr == "" {
					if got := dev.get("web/a"); got.State != StateActive || got.Image != "reg/app:2" {
						t.Errorf("web/a = %s %s", got.State, got.Image)
					}
				}
			})
		})
	}
}

func TestApplyUnhealthyRollsBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		ts := threeEnvs(w)
		for i := range ts {
			ts[i].Services[1].Image.Ref = "reg/bad:2" // web/b
			w.have(ts[i].Name, "reg/bad:2")
		}
		w.envs["dev"].bad["reg/bad:2"] = true
		e := testEngine(t, w, WithUpgradeTimeout(time.Minute))
		rep, err := e.Apply(t.Context(), ts)
		var f *Failure
		if !errors.As(err, &f) || f.Env != "dev" || f.Service != "web/b" || f.NeedsHuman {
			t.Fatalf("err = %v, want a Failure for dev web/b", err)
		}
		if rep.NeedsHuman() {
			t.Error("NeedsHuman after a clean rollback")
		}
		for _, svc := range []string{"web/a", "web/b"} {
			if got := w.envs["dev"].get(svc); got.State != StateActive || got.Image != "reg/app:1" {
				t.Errorf("dev %s = %s %s, want rolled back to reg/app:1", svc, got.State, got.Image)
			}
		}
		for _, env := range []string{"qa", "prod"} {
			if got := w.writes(env); len(got) > 0 {
				t.Errorf("%s writes = %v, want none (later wave)", env, got)
			}
		}
		if got := rep.Envs[0].Services[1]; got.Outcome != OutcomeRolledBack || !strings.Contains(got.Error, "unhealthy") {
			t.Errorf("web/b report %+v", got)
		}
		if rep.Envs[1].Status != EnvNotStarted || rep.Envs[2].Status != EnvNotStarted {
			t.Errorf("later waves: %s", rep)
		}
	})
}

func TestApplyStuckUpgradeTimesOut(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		dev := w.env("dev", 1)
		dev.add("web", "a", "reg/app:1", 1)
		dev.stuck["reg/app:2"] = true
		w.have("dev", "reg/app:2")
		e := testEngine(t, w, WithUpgradeTimeout(3*time.Minute))
		start := time.Now()
		_, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
		if err == nil || !strings.Contains(err.Error(), "upgrade timeout") {
			t.Fatalf("err = %v, want an upgrade timeout", err)
		}
		if took := time.Since(start); took < 3*time.Minute || took > 4*time.Minute {
			t.Errorf("took %v, want about the 3m timeout", took)
		}
		if got := dev.get("web/a"); got.State != StateActive || got.Image != "reg/app:1" {
			t.Errorf("web/a = %s %s, want rolled back", got.State, got.Image)
		}
	})
}

func TestApplyRollbackFailsNeedsHuman(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		dev := w.env("dev", 1)
		dev.add("web", "a", "reg/app:1", 1)
		dev.bad["reg/app:2"] = true
		dev.rollbackErr = errors.New("500 Internal Server Error")
		w.have("dev", "reg/app:2")
		e := testEngine(t, w, WithUpgradeTimeout(time.Minute))
		rep, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
		if err == nil || !rep.NeedsHuman() {
			t.Fatalf("err = %v, NeedsHuman = %v; want needs-human", err, rep.NeedsHuman())
		}
		u := rep.Unresolved()
		if len(u) != 1 || u[0].State != StateUpgraded || !strings.Contains(u[0].Command, "rollout rollback --env dev --service web/a") {
			t.Errorf("unresolved = %+v", u)
		}
		// The error says both why it failed and why it was not put back.
		if msg := err.Error(); !strings.Contains(msg, "upgrade timeout") || !strings.Contains(msg, "then rollback failed: ") || !strings.Contains(msg, "500 Internal Server Error") {
			t.Errorf("err = %q, want the failure and then the rollback's", msg)
		}
	})
}

func TestApplyManualFinish(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		dev := w.env("dev", 1)
		dev.add("web", "a", "reg/app:1", 1)
		w.have("dev", "reg/app:2")
		e := testEngine(t, w, WithFinish(FinishManual))
		rep, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
		if err != nil {
			t.Fatal(err)
		}
		if got := dev.get("web/a"); got.State != StateUpgraded {
			t.Errorf("state %s, want upgraded", got.State)
		}
		s := rep.Envs[0].Services[0]
		if s.Outcome != OutcomeUpgraded || s.Command != "rollout finish --env dev --service web/a" {
			t.Errorf("report %+v", s)
		}
	})
}

func TestApplyTransientErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		knob        func(*fakeEnv)
		wantUpgrade int
	}{
		{"dropped websocket twice", func(e *fakeEnv) { e.failWaits = 2 }, 1},
		{"503 before effect", func(e *fakeEnv) { e.failUpgrade = 1 }, 2},
		{"503 after effect", func(e *fakeEnv) { e.failAfterApply = 1 }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 1)
				dev.add("web", "a", "reg/app:1", 2)
				w.have("dev", "reg/app:2")
				tt.knob(dev)
				e := testEngine(t, w)
				if _, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")}); err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, wr := range w.writes("dev") {
					if wr == "upgrade web/a" {
						n++
					}
				}
				if n != tt.wantUpgrade {
					t.Errorf("upgrade calls = %d, want %d (%v)", n, tt.wantUpgrade, w.writes("dev"))
				}
				if got := dev.get("web/a"); got.State != StateActive || got.Image != "reg/app:2" {
					t.Errorf("web/a = %s %s", got.State, got.Image)
				}
			})
		})
	}
}

func TestApply422IsNotRetried(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		dev := w.env("dev", 1)
		dev.add("web", "a", "reg/app:1", 1)
		dev.rejectUpgrade = true
		w.have("dev", "reg/app:2")
		e := testEngine(t, w)
		rep, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
		if !errors.Is(err, err) || err == nil || !strings.Contains(err.Error(), "ActionNotAvailable") {
			t.Fatalf("err = %v", err)
		}
		if got := w.writes("dev"); !slices.Equal(got, []string{"upgrade web/a"}) {
			t.Errorf("writes %v, want one upgrade (no retry, nothing to roll back)", got)
		}
		if s := rep.Envs[0].Services[0]; s.State != StateActive || s.Command != "" {
			t.Errorf("report %+v", s)
		}
	})
}

func TestApplyUnknownStateNoWrites(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		dev := w.env("dev", 1)
		dev.add("web", "a", "reg/app:1", 1)
		dev.set("web/a", func(s *Service) { s.State = "degraded-unknown" })
		w.have("dev", "reg/app:2")
		e := testEngine(t, w)
		_, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
		if err == nil || !strings.Contains(err.Error(), "cannot upgrade from state degraded-unknown") {
			t.Fatalf("err = %v", err)
		}
		if got := w.writes("dev"); len(got) != 0 {
			t.Errorf("writes %v", got)
		}
	})
}

func TestApplyMissingService(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		w.env("dev", 1).add("web", "a", "reg/app:1", 1)
		e := testEngine(t, w)
		_, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2", "web/zz=reg/app:2")})
		if err == nil || !strings.Contains(err.Error(), "web/zz not in environment dev") {
			t.Fatalf("err = %v", err)
		}
		if got := w.writes("dev"); len(got) != 0 {
			t.Errorf("writes %v", got)
		}
	})
}
