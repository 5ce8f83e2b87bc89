package rollout

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestErrorGrace: Rancher shows transitioning: error 1s into the upgrade
// (Cattle retrying a failed pull). With a 1m grace, an error that clears
// after 40s lets the upgrade go through; one that persists fails it 1m
// after it first showed, rolled back, with Rancher's last message. The
// engine used to fail (and roll back) at the first sight of the error.
func TestErrorGrace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		clears  time.Duration // 0: never
		want    EnvStatus
		outcome string
	}{
		{name: "transient", clears: 40 * time.Second, want: EnvDone, outcome: OutcomeFinished},
		{name: "persists", want: EnvFailed, outcome: OutcomeRolledBack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 1)
				dev.add("web", "a", "reg/app:1", 1)
				dev.stuck["reg/app:2"] = true
				w.have("dev", "reg/app:2")
				var failedAt, upgradeAt time.Time
				var wg sync.WaitGroup
				progress := func(ev Event) {
					switch {
					case ev.Step == "upgrade" && ev.Message == "reg/app:1 -> reg/app:2":
						upgradeAt = time.Now()
						wg.Go(func() {
							time.Sleep(time.Second)
							for i := 0; ; i++ {
								dev.set("web/a", func(s *Service) {
									if s.State == StateUpgrading {
										s.Transitioning, s.TransitioningMessage = "error", "pull reg/app:2 on dev-h1: unexpected EOF (try "+string(rune('1'+i%9))+")"
									}
								})
								if tt.clears > 0 && time.Since(upgradeAt) >= tt.clears {
									dev.set("web/a", func(s *Service) {
										s.State, s.Transitioning, s.TransitioningMessage, s.HealthState = StateUpgraded, "no", "", HealthHealthy
									})
									return
								}
								time.Sleep(5 * time.Second) // Cattle's retry: In Progress, then the error again
								if dev.get("web/a").State != StateUpgrading {
									return
								}
								dev.set("web/a", func(s *Service) { s.Transitioning, s.TransitioningMessage = "yes", "In Progress" })
								time.Sleep(time.Second)
							}
						})
					case ev.Step == "failed" && failedAt.IsZero():
						failedAt = time.Now()
					}
				}
				e := testEngine(t, w, WithErrorGrace(time.Minute), WithProgress(progress))
				rep, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
				wg.Wait()
				er := rep.Envs[0]
				if er.Status != tt.want || er.Services[0].Outcome != tt.outcome {
					t.Fatalf("status %s, outcome %s (%v), want %s, %s", er.Status, er.Services[0].Outcome, err, tt.want, tt.outcome)
				}
				if tt.want == EnvDone {
					if got := w.writes("dev"); !slices.Equal(got, []string{"upgrade web/a", "finish web/a"}) {
						t.Errorf("writes %v", got)
					}
					return
				}
				// The first error is seen by the next poll (every 50ms).
				if got := failedAt.Sub(upgradeAt); got < time.Minute+time.Second || got > time.Minute+time.Second+100*time.Millisecond {
					t.Errorf("failed %v after the upgrade, want 1m after the first error (1s in)", got)
				}
				for _, s := range []string{"1m0s error grace", "pull reg/app:2 on dev-h1: unexpected EOF"} {
					if !strings.Contains(er.Cause, s) {
						t.Errorf("cause %q does not say %q", er.Cause, s)
					}
				}
				if got := w.writes("dev"); !slices.Equal(got, []string{"upgrade web/a", "rollback web/a"}) {
					t.Errorf("writes %v, want the upgrade rolled back", got)
				}
			})
		})
	}
}

// TestErrorGraceRestartsAfterProgress: the grace is for one error, not the
// whole upgrade. A pull that fails 1s into a 4-unit upgrade clears after
// 40s and the upgrade moves on (a unit at the new launch config); another
// pull fails at 1m30s, past a 1m grace counted from the first error. It gets
// a grace of its own: cleared 30s later, the upgrade goes through (it used
// to fail at once, "for longer than the 1m0s error grace"); persisting, it
// fails 1m after it showed. The upgrade may move on before the first grace
// ends or after (the error cleared in time, the upgrade still busy). An error that comes and goes without any unit
// moving (Cattle retrying, TestErrorGrace) still counts from its first sight.
func TestErrorGraceRestartsAfterProgress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// moved: the first error clears at 40s with a unit moved on; else
		// it clears at 50s, the grace ends at 1m01s with the upgrade still
		// busy, and a unit moves on at 1m10s.
		moved, clears bool
	}{
		{"moved within the grace, second clears", true, true},
		{"moved after the grace, second clears", false, true},
		{"moved after the grace, second persists", false, false},
	} {
		clears := tc.clears
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 1)
				dev.add("web", "a", "reg/app:1", 4)
				dev.stuck["reg/app:2"] = true
				w.have("dev", "reg/app:2")
				var wg sync.WaitGroup
				var secondAt, failedAt time.Time
				progress := func(ev Event) {
					if ev.Step == "failed" && failedAt.IsZero() {
						failedAt = time.Now()
					}
					if ev.Step != "upgrade" || ev.Message != "reg/app:1 -> reg/app:2" {
						return
					}
					wg.Go(func() {
						set := func(at time.Duration, f func(s *Service)) {
							time.Sleep(at)
							dev.set("web/a", f)
						}
						set(time.Second, func(s *Service) {
							s.Transitioning, s.TransitioningMessage = "error", "pull reg/app:2 on dev-h1: unexpected EOF"
						})
						if tc.moved {
							set(39*time.Second, func(s *Service) { s.Transitioning, s.TransitioningMessage, s.NewUnits = "yes", "In Progress", 1 })
							set(50*time.Second, func(*Service) {})
						} else {
							set(49*time.Second, func(s *Service) { s.Transitioning, s.TransitioningMessage = "yes", "In Progress" })
							set(20*time.Second, func(s *Service) { s.NewUnits = 1 })
							set(20*time.Second, func(*Service) {})
						}
						set(0, func(s *Service) {
							s.Transitioning, s.TransitioningMessage = "error", "pull reg/app:2 on dev-h2: i/o timeout"
						})
						secondAt = time.Now()
						if !clears {
							return
						}
						set(30*time.Second, func(s *Service) { s.Transitioning, s.TransitioningMessage, s.NewUnits = "yes", "In Progress", 2 })
						set(time.Second, func(s *Service) {
							s.State, s.Transitioning, s.TransitioningMessage, s.NewUnits, s.HealthState = StateUpgraded, "no", "", 4, HealthHealthy
						})
					})
				}
				e := testEngine(t, w, WithErrorGrace(time.Minute), WithProgress(progress))
				rep, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
				wg.Wait()
				er := rep.Envs[0]
				if clears {
					if er.Status != EnvDone || er.Services[0].Outcome != OutcomeFinished {
						t.Fatalf("status %s, outcome %s (%v), want done, finished", er.Status, er.Services[0].Outcome, err)
					}
					if got := w.writes("dev"); !slices.Equal(got, []string{"upgrade web/a", "finish web/a"}) {
						t.Errorf("writes %v", got)
					}
					return
				}
				if er.Status != EnvFailed || er.Services[0].Outcome != OutcomeRolledBack || !strings.Contains(er.Cause, "dev-h2: i/o timeout") {
					t.Fatalf("status %s, outcome %s (%v), want failed, rolled back, naming the second error", er.Status, er.Services[0].Outcome, err)
				}
				if got := failedAt.Sub(secondAt); got < time.Minute || got > time.Minute+100*time.Millisecond {
					t.Errorf("failed %v after the second error, want 1m (its own grace)", got)
				}
			})
		})
	}
}
