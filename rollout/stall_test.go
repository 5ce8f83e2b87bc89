package rollout

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// batchDriver stands in for Cattle upgrading web/a of dev batch by batch:
// one more unit at the new launch config every 3 minutes, up to stopAt (a
// stuck batch), then upgraded if all made it.
func batchDriver(dev *fakeEnv, scale, stopAt int) {
	for n := 1; n <= stopAt; n++ {
		time.Sleep(3 * time.Minute)
		dev.set("web/a", func(s *Service) {
			s.NewUnits = n
			if n == scale {
				s.State, s.Transitioning = StateUpgraded, "no"
			}
		})
	}
}

// TestApplyStallTimeout: an upgrade of many slow batches may run far past
// the stall timeout as long as batches keep coming; one whose batches stop
// fails after the stall timeout (not the much longer upgrade timeout), is
// rolled back, and the failure names the environment, the service and the
// last batch progress.
func TestApplyStallTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		stopAt    int
		wantStall bool
		took      time.Duration // about
	}{
		{"batches keep coming", 10, false, 30 * time.Minute},
		{"batch 5 never starts", 4, true, 12*time.Minute + 5*time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 1)
				dev.add("web", "a", "reg/app:1", 10)
				dev.stuck["reg/app:2"] = true // batchDriver moves it
				w.have("dev", "reg/app:2")
				e := testEngine(t, w, WithUpgradeTimeout(time.Hour), WithStallTimeout(5*time.Minute), WithSoak(0))
				go batchDriver(dev, 10, tc.stopAt)
				start := time.Now()
				_, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
				took := time.Since(start)
				if took < tc.took || took > tc.took+time.Minute {
					t.Errorf("took %v, want about %v", took, tc.took)
				}
				if !tc.wantStall {
					if err != nil {
						t.Fatalf("err = %v, want the upgrade done", err)
					}
					return
				}
				var f *Failure
				if !errors.As(err, &f) || f.Env != "dev" || f.Service != "web/a" {
					t.Fatalf("err = %v, want a stall failure", err)
				}
				msg := err.Error()
				for _, want := range []string{"dev", "web/a", "no batch progress for 5m0s", "4 of 10 units at the new launch config"} {
					if !strings.Contains(msg, want) {
						t.Errorf("err %q lacks %q", msg, want)
					}
				}
				if got := dev.get("web/a"); got.State != StateActive || got.Image != "reg/app:1" {
					t.Errorf("web/a = %s %s, want rolled back", got.State, got.Image)
				}
			})
		})
	}
}
