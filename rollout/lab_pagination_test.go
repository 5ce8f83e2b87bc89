package rollout_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/rollout"
)

// TestLabPagination: an environment of 250 services spans three pages of
// the simulator's default 100; plan sees every one, and apply finds and
// upgrades services of the second and third pages.
func TestLabPagination(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 1, hosts: 1, services: 250, scale: 1})
	f.prewarm(t, nil)
	plan, err := f.engine(t).Plan(t.Context(), f.targets(t))
	if err != nil {
		t.Fatal(err)
	}
	ps := plan.Envs[0].Services
	ids := map[string]bool{}
	for _, s := range ps {
		if s.Action != rollout.PlanUpgrade || s.ID == "" {
			t.Errorf("%s: %s %q, want upgrade", s.Service, s.Action, s.ID)
		}
		ids[s.ID] = true
	}
	if len(ps) != 250 || len(ids) != 250 {
		t.Fatalf("plan lists %d services (%d ids), want 250", len(ps), len(ids))
	}
	if pages := f.http.lines("GET ", "/services", "(marker)", " 200"); len(pages) != 2 {
		t.Errorf("followed %d next pages of services, want 2: %v", len(pages), pages)
	}
	if g := plan.Envs[0].Gate; g == nil || !g.Open {
		t.Errorf("gate %+v, want open", g)
	}

	picks := []int{7, 99, 100, 180, 249}
	tg := f.targets(t)
	tg[0].Services = slices.DeleteFunc(tg[0].Services, func(s rollout.ServiceTarget) bool {
		return !slices.ContainsFunc(picks, func(i int) bool { return s.Service == "web/"+f.name(i) })
	})
	rep, err := f.engine(t).Apply(t.Context(), tg)
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, rep)
	}
	if n := f.writes.count("dev upgrade "); n != len(picks) {
		t.Errorf("%d upgrades, want %d", n, len(picks))
	}
	for i, s := range f.svcs["dev"] {
		want := "/app:1.0"
		if slices.Contains(picks, i) {
			want = "/app:1.1"
		}
		if st := s.Status(); st.State != "active" || !strings.HasSuffix(st.Image, want) {
			t.Errorf("%s: %s %s, want active %s", f.name(i), st.State, st.Image, want)
		}
	}
}
