package lab_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestHostPort: with Config.HostPort the services publish host ports
// (svc01 N, svc02 N+1), held per host as on a real Rancher: a startFirst
// upgrade with the scale on every host finds no host with the port free and
// shows Cattle's error while it retries; a stop-first upgrade goes through.
func TestHostPort(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{ImageSize: 32 << 10, HostsPerEnv: 2, Services: 2, HostPort: 18080,
		HealthDelay: time.Millisecond})
	svcs := l.Services("dev")
	upgrade := func(i int, startFirst bool) {
		t.Helper()
		code, res := rancherDo(t, l, "dev", http.MethodGet, "/services/"+svcs[i].ID(), "")
		if code != http.StatusOK {
			t.Fatalf("GET: %d %v", code, res)
		}
		lc := res["launchConfig"].(map[string]any)
		if ports, _ := lc["ports"].([]any); len(ports) != 1 || ports[0] != lab.ServicePort(18080, i) {
			t.Fatalf("svc%02d ports = %v, want [%s]", i+1, lc["ports"], lab.ServicePort(18080, i))
		}
		lc["environment"] = map[string]any{"RELEASE": "2"}
		body, _ := json.Marshal(map[string]any{"inServiceStrategy": map[string]any{
			"batchSize": 1, "intervalMillis": 100, "startFirst": startFirst, "launchConfig": lc}})
		if code, res := rancherDo(t, l, "dev", http.MethodPost, "/services/"+svcs[i].ID()+"/?action=upgrade", string(body)); code != http.StatusAccepted {
			t.Fatalf("upgrade: %d %v", code, res)
		}
	}
	if lab.ServicePort(18080, 1) != "18081:80/tcp" || lab.ServicePort(0, 1) != "" {
		t.Errorf("ServicePort = %q, %q", lab.ServicePort(18080, 1), lab.ServicePort(0, 1))
	}
	upgrade(0, true)
	deadline := time.Now().Add(10 * time.Second)
	for st := svcs[0].Status(); st.Transitioning != "error"; st = svcs[0].Status() {
		if time.Now().After(deadline) {
			t.Fatalf("startFirst: %+v, want transitioning error", st)
		}
		time.Sleep(5 * time.Millisecond) // polling the simulator's state
	}
	if st := svcs[0].Status(); st.State != "upgrading" || st.TransitioningMessage != "Allocation failed: host needs ports 18080/tcp available" {
		t.Errorf("startFirst: %+v", st)
	}
	upgrade(1, false)
	if err := svcs[1].WaitState(t.Context(), "upgraded"); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.Start(t.Context(), lab.Config{Services: 2, HostPort: 65535}); err == nil {
		t.Errorf("HostPort 65535 with 2 services was accepted")
	}
}
