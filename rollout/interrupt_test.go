package rollout

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestApplyInterrupted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       []Option
		abortAfter time.Duration // 0 = no second signal
		wantDev    EnvStatus
		wantImage  string
		wantHuman  bool
	}{
		{name: "rollback in-flight", wantDev: EnvInterrupted, wantImage: "reg/app:1"},
		{name: "finish in-flight", opts: []Option{WithOnInterrupt(PendingFinish)}, wantDev: EnvDone, wantImage: "reg/app:2"},
		{name: "second signal aborts", abortAfter: 100 * time.Millisecond, wantDev: EnvNeedsHuman, wantHuman: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				defer time.Sleep(time.Hour) // let the fake's in-flight processes end inside the bubble
				w := newWorld()
				ts := threeEnvs(w)
				abort := make(chan struct{})
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				go func() {
					time.Sleep(3 * time.Second) // web/a is mid-upgrade (batch 2 of 3)
					cancel()
					if tt.abortAfter > 0 {
						time.Sleep(tt.abortAfter)
						close(abort)
					}
				}()
				e := testEngine(t, w, append([]Option{WithAbort(abort)}, tt.opts...)...)
				rep, err := e.Apply(ctx, ts)
				if err == nil || !rep.Interrupted {
					t.Fatalf("err = %v, interrupted = %v", err, rep.Interrupted)
				}
				if rep.NeedsHuman() != tt.wantHuman {
					t.Errorf("NeedsHuman = %v, want %v (%v)", rep.NeedsHuman(), tt.wantHuman, err)
				}
				if !tt.wantHuman && !errors.Is(err, ErrInterrupted) {
					t.Errorf("err = %v, want ErrInterrupted", err)
				}
				dev := rep.Envs[0]
				if dev.Status != tt.wantDev {
					t.Errorf("dev status %s (%s), want %s", dev.Status, dev.Cause, tt.wantDev)
				}
				for _, env := range []string{"qa", "prod"} {
					if got := w.writes(env); len(got) > 0 {
						t.Errorf("%s writes %v after interrupt", env, got)
					}
				}
				if tt.wantHuman {
					u := rep.Unresolved()
					if len(u) == 0 {
						t.Fatal("abort left nothing unresolved?")
					}
					for _, s := range u {
						live := w.envs["dev"].get(s.Service)
						if s.Command == "" || live.State == StateActive {
							t.Errorf("unresolved %+v (live state %s)", s, live.State)
						}
					}
					return
				}
				if u := rep.Unresolved(); len(u) > 0 {
					t.Errorf("unresolved %+v", u)
				}
				for _, svc := range []string{"web/a", "web/b"} {
					if got := w.envs["dev"].get(svc); got.State != StateActive || got.Image != tt.wantImage {
						t.Errorf("dev %s = %s %s, want active %s", svc, got.State, got.Image, tt.wantImage)
					}
				}
			})
		})
	}
}

func TestApplyResume(t *testing.T) {
	t.Parallel()
	for _, resume := range []bool{true, false} {
		t.Run(map[bool]string{true: "resume", false: "fresh"}[resume], func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 2)
				dev.add("web", "a", "reg/app:2", 1) // finished by the crashed run
				dev.add("web", "b", "reg/app:2", 1) // upgraded by it, not finished
				dev.add("web", "c", "reg/app:1", 1) // not reached
				dev.set("web/a", func(s *Service) { s.PreviousImage = "reg/app:1" })
				dev.set("web/b", func(s *Service) { s.State, s.PreviousImage = StateUpgraded, "reg/app:1" })
				w.have("dev", "reg/app:2")
				path := filepath.Join(t.TempDir(), "j.jsonl")
				j, err := OpenJournal(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, en := range []Entry{
					{Run: "r1", Action: "run-start"},
					{Run: "r1", Env: "dev", Service: "web/a", Action: "upgrade", To: "reg/app:2"},
					{Run: "r1", Env: "dev", Service: "web/b", Action: "upgrade", To: "reg/app:2"},
					{Run: "r1", Env: "dev", Service: "web/a", Action: "finished", To: "reg/app:2"},
				} {
					if err := j.Record(en); err != nil {
						t.Fatal(err)
					}
				}
				j.Close()
				entries, err := ReadJournal(path)
				if err != nil {
					t.Fatal(err)
				}
				var opts []Option
				if resume {
					opts = append(opts, WithResume(entries))
				}
				e := testEngine(t, w, opts...)
				rep, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2", "web/b=reg/app:2", "web/c=reg/app:2")})
				if !resume {
					if err == nil || !strings.Contains(err.Error(), "upgrade pending from an earlier run") {
						t.Fatalf("fresh run: err = %v, want the pending abort", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var outcomes []string
				for _, s := range rep.Envs[0].Services {
					outcomes = append(outcomes, s.Service+"="+s.Outcome)
				}
				if want := []string{"web/a=skipped", "web/b=finished", "web/c=finished"}; !slices.Equal(outcomes, want) {
					t.Errorf("outcomes %v, want %v", outcomes, want)
				}
				if got, want := w.writes("dev"), []string{"finish web/b", "upgrade web/c", "finish web/c"}; !sameSet(got, want) {
					t.Errorf("writes %v, want %v", got, want)
				}
			})
		})
	}
}

func TestReadJournalTornLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(Entry{Run: "r", Action: "upgrade", Env: "dev", Service: "web/a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.f.WriteString(`{"run":"r","act`); err != nil {
		t.Fatal(err)
	}
	j.Close()
	got, err := ReadJournal(path)
	if err != nil || len(got) != 1 || got[0].Service != "web/a" {
		t.Fatalf("ReadJournal = %+v, %v", got, err)
	}
	if got, err := ReadJournal(filepath.Join(t.TempDir(), "none")); err != nil || got != nil {
		t.Errorf("missing journal = %v, %v", got, err)
	}
}

// Ctrl-C during `rollout rollback` of a finished release (an upgrade back
// to the previous image) finishes the way back: rolling that upgrade back
// would put the release being undone in place again.
func TestRollbackInterruptedFinishesTheWayBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		defer time.Sleep(time.Hour) // let the fake's in-flight processes end inside the bubble
		w := newWorld()
		dev := w.env("dev", 3)
		dev.add("web", "a", "reg/app:2", 3) // finished upgrade 1 -> 2; 2 is bad
		dev.set("web/a", func(s *Service) { s.PreviousImage = "reg/app:1" })
		w.have("dev", "reg/app:1")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() {
			time.Sleep(3 * time.Second) // mid-way back (batch 2 of 3)
			cancel()
		}()
		e := testEngine(t, w) // the default first-Ctrl-C policy: roll in-flight upgrades back
		named := EnvTarget{Name: "dev", Strategy: Strategy{BatchSize: 1, IntervalMillis: 2000}, Concurrency: 1,
			Services: []ServiceTarget{{Service: "web/a"}}}
		rep, _ := e.Rollback(ctx, []EnvTarget{named})
		if a := dev.get("web/a"); a.State != StateActive || a.Image != "reg/app:1" {
			t.Errorf("web/a = %s %s, want active on the previous image reg/app:1", a.State, a.Image)
		}
		if got := w.writes("dev"); slices.Contains(got, "rollback web/a") {
			t.Errorf("writes %v: the way back was rolled back", got)
		}
		if u := rep.Unresolved(); len(u) > 0 {
			t.Errorf("unresolved %+v", u)
		}
	})
}
