package rollout

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestSoakCountsOnlyObservedHealth: the soak (10s, a read every 1s) counts
// only time seen healthy. Reads failing for a few seconds extend it; reads
// failing throughout make it fail at its deadline (twice the soak), rolled
// back, with the reason. It used to skip failed reads and finish anyway.
func TestSoakCountsOnlyObservedHealth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failReads int
		want      EnvStatus
		outcome   string
		soakTook  time.Duration
	}{
		{name: "reads fail throughout", failReads: 1 << 30, want: EnvFailed, outcome: OutcomeRolledBack, soakTook: 20 * time.Second},
		// Reads at +1s and +2s fail: the healthy count restarts at +3s and
		// needs its full 10s from there.
		{name: "reads fail for a while", failReads: 2, want: EnvDone, outcome: OutcomeFinished, soakTook: 13 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 1)
				dev.add("web", "a", "reg/app:1", 1)
				w.have("dev", "reg/app:2")
				var mu sync.Mutex
				var soakStart, soakEnd time.Time
				progress := func(ev Event) {
					switch {
					case ev.Step == "verify" && strings.HasPrefix(ev.Message, "healthy; soaking"):
						soakStart = time.Now()
						w.mu.Lock()
						dev.failReads = tt.failReads
						w.mu.Unlock()
					case ev.Step == "failed" || ev.Step == "finish":
						mu.Lock()
						if soakEnd.IsZero() {
							soakEnd = time.Now()
						}
						mu.Unlock()
						w.mu.Lock()
						dev.failReads = 0 // Rancher is back for the rollback
						w.mu.Unlock()
					}
				}
				e := testEngine(t, w, WithProgress(progress))
				rep, err := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
				er := rep.Envs[0]
				if er.Status != tt.want || er.Services[0].Outcome != tt.outcome {
					t.Fatalf("status %s, outcome %s (%v), want %s, %s", er.Status, er.Services[0].Outcome, err, tt.want, tt.outcome)
				}
				if soakStart.IsZero() || soakEnd.Sub(soakStart) != tt.soakTook {
					t.Errorf("soak took %v, want %v", soakEnd.Sub(soakStart), tt.soakTook)
				}
				if tt.want == EnvFailed {
					for _, s := range []string{"healthy for only 0s of the 10s soak by its deadline (20s)", "health could not be read", "503"} {
						if !strings.Contains(er.Cause, s) {
							t.Errorf("cause %q does not say %q", er.Cause, s)
						}
					}
					if got := w.writes("dev"); !slices.Equal(got, []string{"upgrade web/a", "rollback web/a"}) {
						t.Errorf("writes %v, want the upgrade rolled back, no finish", got)
					}
				}
				if got := dev.get("web/a"); got.State != StateActive {
					t.Errorf("web/a %s", got.State)
				}
			})
		})
	}
}
