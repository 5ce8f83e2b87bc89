package ranchersim

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Sidekicks: the deployment unit is primary + sidekicks; upgrading a sidekick's image
// replaces only that container; rancher/none removes a sidekick; rollback restores it.
func TestSidekickUpgrades(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	for _, h := range f.hosts {
		h.images["side:2"] = true
		h.images["side:1"] = true
	}
	svc := f.service("web", "app", "app:1.0", 2, WithSidekick("log", "side:1"))
	res := f.get(svc)
	secs := res["secondaryLaunchConfigs"].([]any)
	if len(secs) != 1 || secs[0].(map[string]any)["name"] != "log" {
		t.Fatalf("secondaryLaunchConfigs %v", secs)
	}
	side := secs[0].(map[string]any)
	side["imageUuid"] = "docker:side:2"
	body := map[string]any{"inServiceStrategy": map[string]any{"batchSize": 1, "intervalMillis": 100,
		"secondaryLaunchConfigs": []any{side}}}
	if code, m := f.action(svc, "upgrade", body); code != http.StatusAccepted {
		t.Fatalf("%d %v", code, m)
	}
	f.waitState(svc, "upgraded")
	res = f.get(svc)
	in := res["upgrade"].(map[string]any)["inServiceStrategy"].(map[string]any)
	if prev, _ := in["previousLaunchConfig"].(map[string]any); prev["imageUuid"] != "docker:app:1.0" {
		t.Errorf("previousLaunchConfig %v with only sidekicks upgraded, want the primary (Cattle saves it always)", in["previousLaunchConfig"])
	}
	if prev := in["previousSecondaryLaunchConfigs"].([]any); len(prev) != 1 || prev[0].(map[string]any)["imageUuid"] != "docker:side:1" {
		t.Errorf("previousSecondaryLaunchConfigs %v", prev)
	}
	if lc := res["launchConfig"].(map[string]any); lc["version"] != "0" {
		t.Errorf("primary version %v changed", lc["version"])
	}
	// 2 primaries untouched, 2 old sidekicks stopped, 2 new sidekicks.
	if st := svc.Status(); st.Containers != 6 || st.Running != 4 {
		t.Errorf("after sidekick upgrade %+v", st)
	}
	f.action(svc, "finishupgrade", nil)
	f.waitState(svc, "active")

	// Remove the sidekick with rancher/none, then roll back.
	none := map[string]any{"name": "log", "imageUuid": "docker:rancher/none"}
	body = map[string]any{"inServiceStrategy": map[string]any{"secondaryLaunchConfigs": []any{none}, "intervalMillis": 100}}
	if code, m := f.action(svc, "upgrade", body); code != http.StatusAccepted {
		t.Fatalf("%d %v", code, m)
	}
	f.waitState(svc, "upgraded")
	if n := len(f.get(svc)["secondaryLaunchConfigs"].([]any)); n != 0 {
		t.Errorf("sidekick not removed: %d", n)
	}
	if st := svc.Status(); st.Running != 2 {
		t.Errorf("after rancher/none %+v", st)
	}
	f.action(svc, "rollback", nil)
	f.waitState(svc, "active")
	secs = f.get(svc)["secondaryLaunchConfigs"].([]any)
	if len(secs) != 1 || secs[0].(map[string]any)["imageUuid"] != "docker:side:2" {
		t.Errorf("rollback did not restore the sidekick: %v", secs)
	}
	if st := svc.Status(); st.Running != 4 || st.Containers != 4 || st.HealthState != "healthy" {
		t.Errorf("after rollback %+v", st)
	}
}

// cancelupgrade stops the loop between batches; continueupgrade resumes it.
func TestCancelAndContinueUpgrade(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1)
		f.hosts[0].images["app:1.1"] = true
		svc := f.service("web", "app", "app:1.0", 4)
		f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:1.1", 1, 10000, false))
		time.Sleep(15 * time.Second) // two batches done, sleeping before the third
		synctest.Wait()
		code, res := f.action(svc, "cancelupgrade", nil)
		if code != http.StatusAccepted || res["state"] != "canceling-upgrade" {
			t.Fatalf("%d %v", code, res["state"])
		}
		f.waitState(svc, "canceled-upgrade")
		n := 0
		for _, c := range f.hosts[0].callLog() {
			if strings.HasPrefix(c, "create ") {
				n++
			}
		}
		if n != 4+2 { // 4 at creation, 2 upgraded
			t.Errorf("%d creates, want 6", n)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := svc.State(); st != "canceled-upgrade" {
			t.Fatalf("canceled upgrade went on: %s", st)
		}
		start := time.Now()
		f.action(svc, "continueupgrade", nil)
		f.waitState(svc, "upgraded")
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("continue took %v, want one 10 s interval for the 2 remaining units", d)
		}
		if st := svc.Status(); st.Running != 4 || st.Containers != 8 {
			t.Errorf("%+v", st)
		}
	})
}

func TestRestartAndScale(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 2)
		svc := f.service("web", "app", "app:1.0", 3)
		start := time.Now()
		code, _ := f.action(svc, "restart", map[string]any{"rollingRestartStrategy": map[string]any{"batchSize": 2, "intervalMillis": 3000}})
		if code != http.StatusAccepted {
			t.Fatal(code)
		}
		f.waitState(svc, "active")
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("restart took %v, want one 3 s interval", d)
		}
		code, res := f.do(http.MethodPut, f.base+"/services/"+svc.ID(), map[string]any{"scale": 5})
		if code != http.StatusOK || res["state"] != "updating-active" || res["scale"] != float64(5) {
			t.Fatalf("PUT scale: %d %v %v", code, res["state"], res["scale"])
		}
		f.waitState(svc, "active")
		if st := svc.Status(); st.Running != 5 {
			t.Errorf("scale up %+v", st)
		}
		if a, b := f.hosts[0].count("running"), f.hosts[1].count("running"); a+b != 5 || a < 2 || b < 2 {
			t.Errorf("spread %d/%d", a, b)
		}
		f.do(http.MethodPut, f.base+"/services/"+svc.ID(), map[string]any{"scale": 1})
		f.waitState(svc, "active")
		if st := svc.Status(); st.Running != 1 || st.Containers != 1 || f.get(svc)["currentScale"] != float64(1) {
			t.Errorf("scale down %+v", st)
		}
		if code, m := f.do(http.MethodPut, f.base+"/services/"+svc.ID(), map[string]any{"scale": -1}); code != 422 || m["code"] != "MinLimitExceeded" {
			t.Errorf("scale -1: %d %v", code, m)
		}
	})
}

// Close with a pull in flight returns and leaves no goroutine behind (goleak in TestMain).
func TestCloseDuringUpgrade(t *testing.T) {
	t.Parallel()
	s, err := Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p := s.AddProject("dev", testKeys)
	e := newFakeEngine("h", "app:1.0")
	p.AddHost("h", "10.0.0.1", nil, e)
	svc, err := p.AddService("web", "app", "app:1.0", 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := svc.WaitState(ctx, "active"); err != nil {
		t.Fatal(err)
	}
	e.hold("pull")
	client := &http.Client{}
	code, _ := doReq(t, client, http.MethodPost, s.URL()+"/v2-beta/projects/"+p.ID()+"/services/"+svc.ID()+"?action=upgrade",
		map[string]any{"inServiceStrategy": map[string]any{"launchConfig": map[string]any{"imageUuid": "docker:app:2.0"}}}, testKeys)
	if code != http.StatusAccepted {
		t.Fatal(code)
	}
	client.CloseIdleConnections()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := p.AddService("web", "late", "app:1.0", 1); err == nil {
		t.Errorf("AddService after Close succeeded")
	}
}

// An upgrade saves the primary and ALL secondary launch configs as previous, even
// when it changes one sidekick only (Cattle's ServiceUpgradeValidationFilter); the
// strategy holds the finalized configs: the primary and every sidekick, those sent
// at one fresh version, the others unchanged. Rollback restores them all.
func TestUpgradeSavesAllSecondaryConfigs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	f.hosts[0].images["side:1"] = true
	f.hosts[0].images["side:2"] = true
	f.hosts[0].images["metrics:1"] = true
	svc := f.service("web", "app", "app:1.0", 1, WithSidekick("log", "side:1"), WithSidekick("metrics", "metrics:1"))
	before := f.get(svc)
	log := before["secondaryLaunchConfigs"].([]any)[0].(map[string]any)
	log["imageUuid"] = "docker:side:2"
	body := map[string]any{"inServiceStrategy": map[string]any{"intervalMillis": 100,
		"secondaryLaunchConfigs": []any{log}}}
	if code, m := f.action(svc, "upgrade", body); code != http.StatusAccepted {
		t.Fatalf("%d %v", code, m)
	}
	f.waitState(svc, "upgraded")
	res := f.get(svc)
	in := res["upgrade"].(map[string]any)["inServiceStrategy"].(map[string]any)
	images := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			m := x.(map[string]any)
			out = append(out, m["name"].(string)+"="+m["imageUuid"].(string)+"@"+m["version"].(string))
		}
		return out
	}
	wantPrev := []string{"log=docker:side:1@0", "metrics=docker:metrics:1@0"}
	if got := images(in["previousSecondaryLaunchConfigs"]); !reflect.DeepEqual(got, wantPrev) {
		t.Errorf("previousSecondaryLaunchConfigs %v, want %v", got, wantPrev)
	}
	if prev := in["previousLaunchConfig"].(map[string]any); prev["imageUuid"] != "docker:app:1.0" || prev["version"] != "0" {
		t.Errorf("previousLaunchConfig %v", prev)
	}
	got := images(in["secondaryLaunchConfigs"])
	if len(got) != 2 || !strings.HasPrefix(got[0], "log=docker:side:2@") || strings.HasSuffix(got[0], "@0") || got[1] != "metrics=docker:metrics:1@0" {
		t.Errorf("strategy secondaryLaunchConfigs %v", got)
	}
	if lc := in["launchConfig"].(map[string]any); lc["version"] != "0" || lc["imageUuid"] != "docker:app:1.0" {
		t.Errorf("strategy launchConfig %v, want the unchanged primary", lc)
	}
	if !reflect.DeepEqual(images(res["secondaryLaunchConfigs"]), got) {
		t.Errorf("service secondaryLaunchConfigs %v, want the strategy's %v", images(res["secondaryLaunchConfigs"]), got)
	}
	f.action(svc, "rollback", nil)
	f.waitState(svc, "active")
	res = f.get(svc)
	if got := images(res["secondaryLaunchConfigs"]); !reflect.DeepEqual(got, wantPrev) {
		t.Errorf("after rollback %v, want %v", got, wantPrev)
	}
	if st := svc.Status(); st.Running != 3 || st.HealthState != "healthy" {
		t.Errorf("after rollback %+v", st)
	}
}

// A start_once service's containers run once and exit; the service is active with
// healthState "started-once", not "healthy" (ServiceDiscoveryServiceImpl), also after
// an upgrade, which does not wait for the exited containers nor restart them.
func TestStartOnceService(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	f.hosts[0].images["job:2"] = true
	f.hosts[1].images["job:2"] = true
	svc := f.service("ops", "migrate", "app:1.0", 2, WithLabels(map[string]string{LabelStartOnce: "true"}))
	res := f.get(svc)
	if res["state"] != "active" || res["healthState"] != "started-once" {
		t.Errorf("after create: %v %v, want active started-once", res["state"], res["healthState"])
	}
	if st := svc.Status(); st.Containers != 2 || st.Running != 0 {
		t.Errorf("containers %+v, want 2 exited", st)
	}
	if code, m := f.action(svc, "upgrade", upgradeBody(res, "job:2", 1, 100, false)); code != http.StatusAccepted {
		t.Fatalf("%d %v", code, m)
	}
	f.waitState(svc, "upgraded")
	if st := svc.Status(); st.HealthState != "started-once" || st.Image != "job:2" || st.Containers != 4 || st.Running != 0 {
		t.Errorf("after upgrade %+v", st)
	}
	// A regular service is healthy, not started-once.
	if st := f.service("web", "app", "app:1.0", 1).Status(); st.HealthState != "healthy" {
		t.Errorf("regular service %+v", st)
	}
}
