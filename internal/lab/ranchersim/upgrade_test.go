package ranchersim

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// opsPattern reduces an engine call log to the stop/create sequence ("S", "C").
func opsPattern(calls []string) string {
	var b strings.Builder
	for _, c := range calls {
		switch {
		case strings.HasPrefix(c, "stop "):
			b.WriteString("S")
		case strings.HasPrefix(c, "create "):
			b.WriteString("C")
		}
	}
	return b.String()
}

// Batches, interval sleeps and health waits, timed on synctest's fake clock.
func TestUpgradeBatchesAndInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		scale       int
		batch       int
		interval    int
		startFirst  bool
		health      time.Duration // 0: no health check
		wantElapsed time.Duration
		wantOps     string
	}{
		// ceil(5/2)-1 = 2 sleeps of 1 s; old stopped before new start.
		{"stop first", 5, 2, 1000, false, 0, 2 * time.Second, "SSCC" + "SSCC" + "SC"},
		{"start first", 5, 2, 1000, true, 0, 2 * time.Second, "CCSS" + "CCSS" + "CS"},
		{"one batch", 3, 3, 5000, false, 0, 0, "SSSCCC"},
		{"batch 1", 3, 1, 2000, false, 0, 4 * time.Second, "SCSCSC"},
		// startFirst waits for the new containers (1.5 s) before stopping old ones:
		// 3 x 1.5 s + 2 x 1 s.
		{"start first with health", 5, 2, 1000, true, 1500 * time.Millisecond, 6500 * time.Millisecond, "CCSS" + "CCSS" + "CS"},
		// stop first: the next batch waits for health after the sleep (0.5 s more),
		// and the upgrade ends once the last batch is healthy: 2 x 1.5 s + 1.5 s.
		{"stop first with health", 5, 2, 1000, false, 1500 * time.Millisecond, 4500 * time.Millisecond, "SSCC" + "SSCC" + "SC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				opts := []Option{}
				if tc.health > 0 {
					opts = append(opts, WithHealthDelay(tc.health))
				}
				f, _ := newPipeFixture(t, 1, opts...)
				f.hosts[0].images["app:1.1"] = true
				var sopts []ServiceOption
				if tc.health > 0 {
					sopts = append(sopts, WithHealthCheck(time.Second, 2))
				}
				svc := f.service("web", "app", "app:1.0", tc.scale, sopts...)
				time.Sleep(tc.health) // activation does not wait for health; the upgrade does
				synctest.Wait()
				if h := svc.Status().HealthState; h != "healthy" {
					t.Fatalf("service %s before the upgrade", h)
				}
				before := len(f.hosts[0].callLog())
				start := time.Now()
				code, res := f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:1.1", tc.batch, tc.interval, tc.startFirst))
				if code != http.StatusAccepted || res["state"] != "upgrading" {
					t.Fatalf("%d %v", code, res["state"])
				}
				f.waitState(svc, "upgraded")
				if got := time.Since(start); got != tc.wantElapsed {
					t.Errorf("upgrade took %v, want %v", got, tc.wantElapsed)
				}
				if got := opsPattern(f.hosts[0].callLog()[before:]); got != tc.wantOps {
					t.Errorf("engine ops %s, want %s", got, tc.wantOps)
				}
				// Old containers are stopped, not removed, and still listed.
				if n := len(f.get(svc)["instanceIds"].([]any)); n != 2*tc.scale {
					t.Errorf("instanceIds %d, want %d", n, 2*tc.scale)
				}
				if r, x := f.hosts[0].count("running"), f.hosts[0].count("exited"); r != tc.scale || x != tc.scale {
					t.Errorf("engine: %d running %d exited", r, x)
				}
				// Rollback does not wait for health: only the interval sleeps.
				start = time.Now()
				f.action(svc, "rollback", nil)
				f.waitState(svc, "active")
				wantRollback := time.Duration((tc.scale+tc.batch-1)/tc.batch-1) * time.Duration(tc.interval) * time.Millisecond
				if got := time.Since(start); got != wantRollback {
					t.Errorf("rollback took %v, want %v", got, wantRollback)
				}
				if r, x := f.hosts[0].count("running"), f.hosts[0].count("exited"); r != tc.scale || x != 0 {
					t.Errorf("after rollback engine: %d running %d exited", r, x)
				}
				if st := svc.Status(); st.Image != "app:1.0" || st.Containers != tc.scale {
					t.Errorf("after rollback %+v", st)
				}
			})
		})
	}
}

// Starting a container calls EnsureImage first: a missing image is pulled (taking the
// pull time), pull_image=always pulls on every create.
func TestPullOnCreate(t *testing.T) {
	t.Parallel()
	const pull = 30 * time.Second
	tests := []struct {
		name        string
		always      bool
		preloaded   bool
		wantElapsed time.Duration
		wantPulls   int // per host
	}{
		{"missing image is pulled", false, false, pull, 1},
		{"present image is not pulled", false, true, 0, 0},
		{"pull_image always pulls present image", true, true, pull, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f, _ := newPipeFixture(t, 2)
				for _, h := range f.hosts {
					h.pullTime = pull
					if tc.preloaded {
						h.images["app:2.0"] = true
					}
				}
				var opts []ServiceOption
				if tc.always {
					opts = append(opts, WithPullAlways())
				}
				svc, err := f.p.AddService("web", "app", "app:1.0", 4, opts...)
				if err != nil {
					t.Fatal(err)
				}
				f.waitState(svc, "active")
				marks := []int{len(f.hosts[0].callLog()), len(f.hosts[1].callLog())}
				start := time.Now()
				f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:2.0", 4, 100, false))
				f.waitState(svc, "upgraded")
				if got := time.Since(start); got != tc.wantElapsed {
					t.Errorf("upgrade took %v, want %v", got, tc.wantElapsed)
				}
				for i, h := range f.hosts {
					calls := h.callLog()[marks[i]:]
					pulls, ensures := 0, 0
					for _, c := range calls {
						if c == "pull app:2.0" {
							pulls++
						}
						if strings.HasPrefix(c, "ensure app:2.0 ") {
							ensures++
							if want := "ensure app:2.0 always=" + map[bool]string{true: "true", false: "false"}[tc.always]; c != want {
								t.Errorf("host %d: %q, want %q", i, c, want)
							}
						}
					}
					if ensures != 2 {
						t.Errorf("host %d: %d EnsureImage calls, want 2 (one per container)", i, ensures)
					}
					// Concurrent creates on one host may both see the image missing; a real
					// daemon joins them into one pull. The fake counts both.
					if tc.wantPulls == 1 && (pulls < 1 || pulls > 2) || tc.wantPulls != 1 && pulls != tc.wantPulls {
						t.Errorf("host %d: %d pulls, want %d (%v)", i, pulls, tc.wantPulls, calls)
					}
					if i := slices.IndexFunc(calls, func(c string) bool { return strings.HasPrefix(c, "ensure") }); i < 0 ||
						slices.IndexFunc(calls, func(c string) bool { return strings.HasPrefix(c, "create") }) < i {
						t.Errorf("host %d: create before EnsureImage: %v", i, calls)
					}
				}
			})
		})
	}
}

// A never-healthy image hangs the upgrade in "upgrading": health waits time out after
// 45 s and the process is retried; rollback still works without waiting for health.
func TestNeverHealthyHangsUpgrade(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1, WithRetryDelay(5*time.Second))
		f.hosts[0].images["app:bad"] = true
		svc := f.service("web", "app", "app:1.0", 2, WithNeverHealthy("*:bad"))
		start := time.Now()
		f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:bad", 1, 100, false))
		at := func(d time.Duration) Status {
			time.Sleep(d - time.Since(start))
			synctest.Wait()
			return svc.Status()
		}
		if st := at(time.Second); st.State != "upgrading" || st.HealthState != "initializing" || st.TransitioningMessage != "In Progress" {
			t.Errorf("at 1s: %+v", st)
		}
		// The first batch's new container never gets healthy; the wait before the next
		// batch times out at 45.1 s (after the 100 ms interval).
		if st := at(46 * time.Second); st.Transitioning != "yes" || !strings.Contains(st.TransitioningMessage, "Timeout") {
			t.Errorf("at 46s: %+v", st)
		}
		if st := at(51 * time.Second); st.TransitioningMessage != "In Progress" {
			t.Errorf("at 51s (retried): %+v", st)
		}
		if st := at(10 * time.Minute); st.State != "upgrading" || st.Transitioning != "yes" {
			t.Errorf("at 10m: %+v", st)
		}
		res := f.get(svc)
		if _, ok := res["actions"].(map[string]any)["rollback"]; !ok {
			t.Errorf("rollback not offered while upgrading: %v", res["actions"])
		}
		start = time.Now()
		f.action(svc, "rollback", nil)
		f.waitState(svc, "active")
		if d := time.Since(start); d != 0 {
			t.Errorf("rollback took %v", d)
		}
		if st := svc.Status(); st.HealthState != "healthy" || st.Image != "app:1.0" || st.Containers != 2 || st.Running != 2 {
			t.Errorf("after rollback %+v", st)
		}
	})
}

// A pull failure makes the process error (transitioning error + message) and retry;
// once the registry recovers the upgrade completes.
func TestPullFailureErrorsAndRetries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1, WithRetryDelay(5*time.Second))
		svc := f.service("web", "app", "app:1.0", 1)
		f.hosts[0].setPullErr(errors.New("manifest unknown"))
		f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:3.0", 1, 100, false))
		time.Sleep(time.Second)
		synctest.Wait()
		st := svc.Status()
		if st.State != "upgrading" || st.Transitioning != "error" || !strings.Contains(st.TransitioningMessage, "pull app:3.0 on host0: manifest unknown") {
			t.Fatalf("after failure: %+v", st)
		}
		res := f.get(svc)
		if res["transitioning"] != "error" || res["transitioningMessage"] != st.TransitioningMessage {
			t.Errorf("API %v %v", res["transitioning"], res["transitioningMessage"])
		}
		f.hosts[0].setPullErr(nil)
		f.waitState(svc, "upgraded")
		if st := svc.Status(); st.Image != "app:3.0" || st.Running != 1 {
			t.Errorf("%+v", st)
		}
	})
}

func TestHealthStateRule(t *testing.T) {
	t.Parallel()
	h := func(s string) *string { return &s }
	tests := []struct {
		name    string
		kind    string
		scale   int
		sidecar bool
		cs      []container // state + health
		want    string
	}{
		{"no health checks running", "service", 2, false, []container{{state: "running"}, {state: "running"}}, "healthy"},
		{"healthy", "service", 2, false, []container{{state: "running", health: h("healthy")}, {state: "running", health: h("updating-healthy")}}, "healthy"},
		{"initializing", "service", 2, false, []container{{state: "running", health: h("healthy")}, {state: "running", health: h("initializing")}}, "initializing"},
		{"degraded", "service", 2, false, []container{{state: "running", health: h("healthy")}, {state: "stopped"}}, "degraded"},
		{"degraded unhealthy one", "service", 2, false, []container{{state: "running", health: h("healthy")}, {state: "running", health: h("unhealthy")}}, "degraded"},
		{"unhealthy", "service", 1, false, []container{{state: "running", health: h("unhealthy")}}, "unhealthy"},
		{"none running", "service", 1, false, []container{{state: "stopped"}}, "unhealthy"},
		{"sidekicks count", "service", 1, true, []container{{state: "running"}}, "degraded"},
		{"sidekicks count all", "service", 1, true, []container{{state: "running"}, {state: "running", lc: "side"}}, "healthy"},
		{"stopped initializing ignored", "service", 2, false, []container{{state: "running"}, {state: "stopped", health: h("initializing")}}, "degraded"},
		{"started once", "service", 2, false, []container{{state: "stopped", startOnce: true, starts: 1}, {state: "stopped", startOnce: true, starts: 1}}, "started-once"},
		{"started once counts healthy", "service", 2, false, []container{{state: "stopped", startOnce: true, starts: 1}, {state: "running"}}, "healthy"},
		{"start_once never started", "service", 1, false, []container{{state: "stopped", startOnce: true}}, "unhealthy"},
		{"other kinds always healthy", "dnsService", 3, false, nil, "healthy"},
		{"load balancer counted", "loadBalancerService", 1, false, []container{{state: "stopped"}}, "unhealthy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &Project{}
			svc := &Service{p: p, kind: tc.kind, scale: tc.scale, launchConfig: map[string]any{"version": "0"}}
			if tc.sidecar {
				svc.secondary = []map[string]any{{"name": "side", "version": "0"}}
			}
			for i := range tc.cs {
				c := tc.cs[i]
				c.svc, c.p, c.version = svc, p, "0"
				p.containers = append(p.containers, &c)
			}
			if got := svc.healthState(); got != tc.want {
				t.Errorf("healthState %s, want %s", got, tc.want)
			}
		})
	}
}

// During an upgrade only containers at the new launch-config version are waited for
// (Cattle's getInstancesToCheckForHealth): old containers that never turn healthy do
// not hold the upgrade back.
func TestUpgradeWaitsForNewVersionOnly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1)
		f.hosts[0].images["app:2.0"] = true
		svc := f.service("web", "app", "app:1.0", 2, WithNeverHealthy("*:1.0"))
		start := time.Now()
		if code, m := f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:2.0", 1, 100, true)); code != http.StatusAccepted {
			t.Fatalf("%d %v", code, m)
		}
		f.waitState(svc, "upgraded")
		if d := time.Since(start); d > time.Second {
			t.Errorf("upgrade took %v: it waited for the old, never-healthy containers", d)
		}
		if st := svc.Status(); st.Image != "app:2.0" || st.Running != 2 || st.HealthState != "healthy" {
			t.Errorf("%+v", st)
		}
	})
}

// The health timeout applies to each new container in turn, not to the whole wait:
// a primary healthy after 40 s and its sidekick after 80 s pass under a 45 s timeout
// (Cattle waits resource.monitor.default.wait.millis per instance).
func TestHealthTimeoutPerContainer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1, WithRetryDelay(5*time.Second))
		f.hosts[0].images["side:1"] = true
		svc := f.service("web", "app", "app:1.0", 1, WithSidekick("log", "side:1"))
		res := f.get(svc)
		hc := func(ms int) map[string]any { return map[string]any{"interval": ms, "healthyThreshold": 1} }
		lc := res["launchConfig"].(map[string]any)
		lc["healthCheck"] = hc(40000)
		side := res["secondaryLaunchConfigs"].([]any)[0].(map[string]any)
		side["healthCheck"] = hc(80000)
		body := map[string]any{"inServiceStrategy": map[string]any{"intervalMillis": 100,
			"launchConfig": lc, "secondaryLaunchConfigs": []any{side}}}
		start := time.Now()
		if code, m := f.action(svc, "upgrade", body); code != http.StatusAccepted {
			t.Fatalf("%d %v", code, m)
		}
		time.Sleep(46 * time.Second)
		synctest.Wait()
		if st := svc.Status(); st.State != "upgrading" || st.Transitioning != "yes" || st.TransitioningMessage != "In Progress" {
			t.Errorf("at 46s: %+v, want upgrading In Progress (no timeout yet)", st)
		}
		f.waitState(svc, "upgraded")
		if d := time.Since(start); d != 80*time.Second {
			t.Errorf("upgraded after %v, want 80s", d)
		}
	})
}
