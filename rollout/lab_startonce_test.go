package rollout_test

import (
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rollout"
)

// TestLabStartOnce: a start_once service (a migration job) never reads
// "healthy": its containers run once and exit, and Cattle reports the
// service "started-once" (calculateServiceHealthState). The engine verifies
// it by that, soak included, and finishes it; it used to wait out the
// upgrade timeout for "healthy" and roll the job back.
func TestLabStartOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 1, hosts: 2, services: 1,
		svcOpts: []ranchersim.ServiceOption{ranchersim.WithLabels(map[string]string{ranchersim.LabelStartOnce: "true"})}})
	f.prewarm(t, nil)
	if st := f.svcs["dev"][0].Status(); st.HealthState != "started-once" {
		t.Fatalf("lab service before the run: %+v, want started-once", st)
	}
	rep, err := f.engine(t, rollout.WithUpgradeTimeout(10*time.Second)).Apply(t.Context(), f.targets(t))
	st := f.svcs["dev"][0].Status()
	if err != nil || st.State != "active" || st.Image != f.region("dev")+"/app:1.1" || rep.Envs[0].Services[0].Outcome != rollout.OutcomeFinished {
		t.Fatalf("err %v, svc00 %+v: want finished at app:1.1\n%s", err, st, rep)
	}
}
