package rollout_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-dev/drover/rollout"
)

// TestLabErrorGrace: dev's hosts lack app:1.1 (no prewarm; the gate is
// told it is there) and every pull fails mid-stream, so the simulator,
// like Cattle, shows transitioning: error with the pull's message and
// retries (every 5s). An error that clears (the pulls work again once the
// engine said it tolerates it) lets the rollout through; one that persists
// past --error-grace fails it, rolled back, with Rancher's last message.
func TestLabErrorGrace(t *testing.T) {
	t.Parallel()
	for _, clears := range []bool{true, false} {
		name := map[bool]string{true: "clears", false: "persists"}[clears]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFleet(t, fleetConfig{envs: 1, hosts: 2, services: 1})
			for _, h := range []string{"dev-01", "dev-02"} {
				f.l.DockerHost(h).FailPullMidStream(true)
			}
			var tolerated atomic.Bool
			f.onEvent = func(ev rollout.Event) {
				if ev.Step == "upgrade" && strings.Contains(ev.Message, "tolerated for") && !tolerated.Swap(true) && clears {
					for _, h := range []string{"dev-01", "dev-02"} {
						f.l.DockerHost(h).FailPullMidStream(false)
					}
				}
			}
			grace := 30 * time.Second
			if !clears {
				grace = 2 * time.Second
			}
			rep, err := f.engineWith(t, present{}, rollout.WithErrorGrace(grace)).Apply(t.Context(), f.targets(t))
			if !tolerated.Load() {
				t.Fatalf("no transitioning: error was tolerated (err %v)\n%s", err, rep)
			}
			st := f.svcs["dev"][0].Status()
			if clears {
				if err != nil || st.State != "active" || st.Image != f.region("dev")+"/app:1.1" {
					t.Fatalf("err %v, svc00 %s %s: want finished at app:1.1\n%s", err, st.State, st.Image, rep)
				}
				return
			}
			var fail *rollout.Failure
			if !errors.As(err, &fail) || fail.NeedsHuman {
				t.Fatalf("err = %v, want a failure, put back\n%s", err, rep)
			}
			for _, s := range []string{"2s error grace", "pull " + f.region("dev") + "/app:1.1 on dev-0"} {
				if !strings.Contains(fail.Cause, s) {
					t.Errorf("cause %q does not say %q", fail.Cause, s)
				}
			}
			if rep.Envs[0].Services[0].Outcome != rollout.OutcomeRolledBack || st.State != "active" || st.Image != f.region("dev")+"/app:1.0" {
				t.Errorf("outcome %s, svc00 %s %s: want rolled back to app:1.0", rep.Envs[0].Services[0].Outcome, st.State, st.Image)
			}
		})
	}
}
