package rollout

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		dev := w.env("dev", 2)
		dev.add("web", "a", "reg/app:1", 5)
		dev.add("web", "b", "reg/app:2", 1)
		dev.add("web", "c", "reg/app:1", 1)
		dev.set("web/c", func(s *Service) { s.State = StateUpgraded })
		w.have("dev", "reg/app:2")
		w.setPresent("dev", "dev-h2", "reg/app:2", false)
		e := testEngine(t, w)
		tg := target("dev", 1, "web/a=reg/app:2", "web/b=reg/app:2", "web/c=reg/app:2", "web/zz=reg/app:2")
		tg.Strategy.BatchSize = 2
		tg.Strategy.StartFirstServices = []string{"web/a", "web/typo"}
		p, err := e.Plan(t.Context(), []EnvTarget{tg})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range p.Envs[0].Services {
			got = append(got, s.Service+" "+s.Action+" "+s.Current+" -> "+s.New+" "+strings.Repeat("#", s.Batches))
		}
		want := []string{
			"web/a upgrade reg/app:1 -> reg/app:2 ###", // ceil(5/2)
			"web/b unchanged reg/app:2 -> reg/app:2 ",
			"web/c pending reg/app:1 -> reg/app:2 #",
			"web/zz missing  -> reg/app:2 ",
		}
		if !slices.Equal(got, want) {
			t.Errorf("plan\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// A startFirstServices name the environment lacks is flagged; the
		// inventory cannot know it offline.
		if w := p.Envs[0].Warnings; len(w) != 1 || !strings.Contains(w[0], "names web/typo, which dev does not have") {
			t.Errorf("warnings %q, want one for web/typo", w)
		}
		if g := p.Envs[0].Gate; g == nil || g.Open || len(g.Missing) != 1 || g.Missing[0].Host != "dev-h2" {
			t.Errorf("gate %+v", g)
		}
		if len(w.writes("dev")) != 0 {
			t.Errorf("plan wrote: %v", w.writes("dev"))
		}
	})
}

func TestStatusFinishRollback(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		dev := w.env("dev", 2)
		dev.add("web", "a", "reg/app:2", 1) // pending upgrade 1 -> 2
		dev.add("web", "b", "reg/app:2", 1) // finished upgrade 1 -> 2
		dev.add("web", "c", "reg/app:1", 1) // never upgraded
		dev.set("web/a", func(s *Service) { s.State, s.PreviousImage = StateUpgraded, "reg/app:1" })
		dev.set("web/b", func(s *Service) { s.PreviousImage = "reg/app:1" })
		w.have("dev", "reg/app:1")
		e := testEngine(t, w)

		st, err := e.Status(t.Context(), []EnvTarget{{Name: "dev"}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range st.Envs[0].Services {
			got = append(got, s.Service+" "+s.State+" "+s.Pending)
		}
		if want := []string{"web/a upgraded reg/app:1 -> reg/app:2", "web/b active ", "web/c active "}; !slices.Equal(got, want) {
			t.Errorf("status %q, want %q", got, want)
		}

		// Rollback with no service named: only the pending one.
		rep, err := e.Rollback(t.Context(), []EnvTarget{{Name: "dev", Strategy: Strategy{BatchSize: 1, IntervalMillis: 100}, Concurrency: 2}})
		if err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if a := dev.get("web/a"); a.State != StateActive || a.Image != "reg/app:1" {
			t.Errorf("web/a = %s %s", a.State, a.Image)
		}
		if len(rep.Envs[0].Services) != 1 || rep.Envs[0].Services[0].Outcome != OutcomeRolledBack {
			t.Errorf("report %+v", rep.Envs[0].Services)
		}

		// Rollback of a finished upgrade: upgrade back to the previous image, gated.
		named := EnvTarget{Name: "dev", Strategy: Strategy{BatchSize: 1, IntervalMillis: 100}, Concurrency: 2,
			Services: []ServiceTarget{{Service: "web/b"}, {Service: "web/c"}}}
		w.setPresent("dev", "dev-h1", "reg/app:1", false)
		rep, err = e.Rollback(t.Context(), []EnvTarget{named})
		if err == nil || rep.Envs[0].Status != EnvGated {
			t.Fatalf("rollback without the old image: err %v, status %s", err, rep.Envs[0].Status)
		}
		w.have("dev", "reg/app:1")
		rep, err = e.Rollback(t.Context(), []EnvTarget{named})
		if err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if b := dev.get("web/b"); b.State != StateActive || b.Image != "reg/app:1" {
			t.Errorf("web/b = %s %s", b.State, b.Image)
		}
		if got := rep.Envs[0].Services; got[0].Outcome != OutcomeFinished || got[1].Outcome != OutcomeUnchanged {
			t.Errorf("report %+v", got)
		}

		// Finish: upgrade web/c, leave it upgraded, finish it.
		e2 := testEngine(t, w, WithFinish(FinishManual))
		w.have("dev", "reg/app:3")
		if _, err := e2.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/c=reg/app:3")}); err != nil {
			t.Fatal(err)
		}
		rep, err = e.Finish(t.Context(), []EnvTarget{{Name: "dev"}})
		if err != nil {
			t.Fatal(err)
		}
		if c := dev.get("web/c"); c.State != StateActive || c.Image != "reg/app:3" || rep.Envs[0].Services[0].Outcome != OutcomeFinished {
			t.Errorf("web/c = %s %s, report %+v", c.State, c.Image, rep.Envs[0].Services)
		}
	})
}

// TestRollbackGateChecksOnce: the upgrade back of a rollback whose previous
// image is missing on a host fails at once, naming the host, without
// waiting out the gate timeout (it used to wait all of it: nothing brings
// the image while it waits). With --prewarm it pulls the image and goes on.
func TestRollbackGateChecksOnce(t *testing.T) {
	t.Parallel()
	for _, prewarm := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			w := newWorld()
			dev := w.env("dev", 2)
			dev.add("web", "b", "reg/app:2", 1)
			dev.set("web/b", func(s *Service) { s.PreviousImage = "reg/app:1" })
			w.setPresent("dev", "dev-h1", "reg/app:1", true)
			opts := []Option{WithGateTimeout(10 * time.Minute), WithGateInterval(10 * time.Second)}
			if prewarm {
				opts = append(opts, WithPrewarm(w))
			}
			e := testEngine(t, w, opts...)
			start := time.Now()
			rep, err := e.Rollback(t.Context(), []EnvTarget{{Name: "dev", Strategy: Strategy{BatchSize: 1, IntervalMillis: 100}, Concurrency: 1,
				Services: []ServiceTarget{{Service: "web/b"}}}})
			took := time.Since(start)
			if prewarm {
				if err != nil || dev.get("web/b").Image != "reg/app:1" || len(w.pulls) != 1 {
					t.Errorf("rollback --prewarm: err %v, web/b at %s, pulls %v; want it back at reg/app:1 after one pull", err, dev.get("web/b").Image, w.pulls)
				}
				return
			}
			if err == nil || rep.Envs[0].Status != EnvGated {
				t.Fatalf("rollback without the old image on dev-h2: err %v, status %s", err, rep.Envs[0].Status)
			}
			if took >= 10*time.Second {
				t.Errorf("rollback gate took %v (fake time), want one check, no wait", took)
			}
			if c := rep.Envs[0].Cause; !strings.Contains(c, "dev-h2: reg/app:1") || !strings.Contains(c, "does not wait") {
				t.Errorf("cause %q, want it to name dev-h2 and say it does not wait", c)
			}
			if got := w.writes("dev"); len(got) != 0 {
				t.Errorf("gated rollback made write calls: %v", got)
			}
		})
	}
}
