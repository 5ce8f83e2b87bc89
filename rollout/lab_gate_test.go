package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/rollout"
)

// TestLabGateHungHost: dev-02's dockerd accepts connections and never
// answers. With --gate-timeout 0 ("check once") the gate gives each check
// its minimum (5s), then closes on dev-02 without a Rancher write; it used
// to wait out prewarm's own 30-minute timeout per check (here, until the
// test's context ended).
func TestLabGateHungHost(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 1, hosts: 2, services: 1})
	f.prewarm(t, nil)
	f.l.DockerHost("dev-02").SetHang(true)
	t.Cleanup(func() { f.l.DockerHost("dev-02").SetHang(false) })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	start := time.Now()
	rep, err := f.engine(t).Apply(ctx, f.targets(t))
	took := time.Since(start)
	if err == nil || ctx.Err() != nil || took > 30*time.Second {
		t.Fatalf("Apply took %v (err %v), want gated within seconds\n%s", took, err, rep)
	}
	er := rep.Envs[0]
	if er.Status != rollout.EnvGated || er.Gate == nil || len(er.Gate.Missing) != 1 || er.Gate.Missing[0].Host != "dev-02" {
		t.Fatalf("status %s, gate %+v: want gated on dev-02", er.Status, er.Gate)
	}
	if got := er.Gate.Missing[0].Error; !strings.Contains(got, "dev-02: no answer within 5s") {
		t.Errorf("missing error %q does not say dev-02 did not answer within the check's 5s", got)
	}
	if posts := f.http.lines("POST "); len(posts) != 0 {
		t.Errorf("POSTs %v, want none", posts)
	}
}
