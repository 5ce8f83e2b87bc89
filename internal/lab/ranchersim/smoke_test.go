package ranchersim

import (
	"net/http"
	"testing"
)

func TestUpgradeFinishRollbackSmoke(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	svc := f.service("web", "frontend", "app:1.0", 2)
	res := f.get(svc)
	if res["state"] != "active" || res["healthState"] != "healthy" {
		t.Fatalf("state %v health %v", res["state"], res["healthState"])
	}
	code, up := f.action(svc, "upgrade", upgradeBody(res, "app:1.1", 1, 100, false))
	if code != http.StatusAccepted || up["state"] != "upgrading" {
		t.Fatalf("upgrade: %d %v", code, up["state"])
	}
	f.waitState(svc, "upgraded")
	code, _ = f.action(svc, "rollback", nil)
	if code != http.StatusAccepted {
		t.Fatalf("rollback %d", code)
	}
	f.waitState(svc, "active")
	if st := svc.Status(); st.Image != "app:1.0" || st.Running != 2 || st.Containers != 2 {
		t.Fatalf("after rollback: %+v", st)
	}
	code, _ = f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:1.1", 2, 100, true))
	if code != http.StatusAccepted {
		t.Fatalf("upgrade %d", code)
	}
	f.waitState(svc, "upgraded")
	if st := svc.Status(); st.Running != 2 || st.Containers != 4 {
		t.Fatalf("upgraded: %+v", st)
	}
	f.action(svc, "finishupgrade", nil)
	f.waitState(svc, "active")
	if st := svc.Status(); st.Image != "app:1.1" || st.Running != 2 || st.Containers != 2 {
		t.Fatalf("finished: %+v", st)
	}
}
