package lab_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// rancherDo sends one request to the lab's Rancher with env's keys and
// decodes the JSON answer.
func rancherDo(t *testing.T, l *lab.Lab, env, method, path, body string) (int, map[string]any) {
	t.Helper()
	var e *lab.Env
	for _, x := range l.Envs() {
		if x.Name == env {
			e = x
		}
	}
	u := l.Rancher.URL() + "/v2-beta/projects/" + l.Project(env).ID() + path
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(l.Getenv(e.AccessKeyEnv), l.Getenv(e.SecretKeyEnv))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, m
}

func inject(t *testing.T, l *lab.Lab, s string) {
	t.Helper()
	f, err := lab.ParseFault(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Inject(f); err != nil {
		t.Fatalf("Inject(%s): %v", s, err)
	}
}

// TestActionFaultAnyStatus: `rancher:action=500`, as lab up --help documents
// it, used to panic the lab (the simulator took only 422 and 409). Every
// status ParseFault accepts now answers the next action over HTTP, once.
func TestActionFaultAnyStatus(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{ImageSize: 32 << 10, Services: 1, HealthDelay: time.Millisecond})
	id := l.Services("dev")[0].ID()
	for _, tc := range []struct {
		fault string
		code  int
		want  string
	}{
		{"rancher:action=500", 500, "ServerError"},
		{"rancher:action=503", 503, "ServiceUnavailable"},
		{"rancher:action=422", 422, "ActionNotAvailable"},
		{"rancher:action=409", 409, "Conflict"},
	} {
		inject(t, l, tc.fault)
		code, body := rancherDo(t, l, "dev", http.MethodPost, "/services/"+id+"/?action=addservicelink", "{}")
		if code != tc.code || body["code"] != tc.want || body["type"] != "error" {
			t.Errorf("%s: %d %v, want %d %s", tc.fault, code, body, tc.code, tc.want)
		}
		if code, _ := rancherDo(t, l, "dev", http.MethodPost, "/services/"+id+"/?action=addservicelink", "{}"); code != http.StatusAccepted {
			t.Errorf("%s: not one-shot, the next action answered %d", tc.fault, code)
		}
	}
}

// TestNeverHealthyMatchesServices: never-healthy=GLOB names services, as
// its help says (it used to match image references): the matching
// service's new containers stay initializing, the others turn healthy, and
// an image glob given to it matches no service. never-healthy-image=GLOB
// keeps the image match.
func TestNeverHealthyMatchesServices(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{ImageSize: 32 << 10, Services: 3, ServiceScale: 1, HealthDelay: time.Millisecond})
	inject(t, l, "rancher:never-healthy=web/svc01")
	svcs := l.Services("dev")
	scaleUp := func(i int) {
		t.Helper()
		code, body := rancherDo(t, l, "dev", http.MethodPost, "/services/"+svcs[i].ID()+"/?action=update", `{"scale": 2}`)
		if code != http.StatusAccepted {
			t.Fatalf("scale %s: %d %v", svcs[i].ID(), code, body)
		}
		if err := svcs[i].WaitState(t.Context(), "active"); err != nil {
			t.Fatal(err)
		}
	}
	scaleUp(0)
	scaleUp(1)
	waitHealth := func(i int, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for svcs[i].Status().HealthState != want {
			if time.Now().After(deadline) {
				t.Fatalf("svc%02d: %+v, want healthState %s", i+1, svcs[i].Status(), want)
			}
			time.Sleep(5 * time.Millisecond) // polling the simulator's state
		}
	}
	waitHealth(1, "healthy")
	if st := svcs[0].Status(); st.HealthState != "initializing" || st.Running != 2 {
		t.Errorf("web/svc01 (matched): %+v, want 2 running, initializing", st)
	}
	// An image glob names no service.
	image := svcs[2].Status().Image
	inject(t, l, "rancher:never-healthy="+image)
	scaleUp(2)
	waitHealth(2, "healthy")
	// never-healthy-image matches the image of every service.
	l.Rancher.SetNeverHealthyServices()
	inject(t, l, fmt.Sprintf("rancher:never-healthy-image=*%s", image[strings.LastIndex(image, "/"):]))
	code, _ := rancherDo(t, l, "dev", http.MethodPost, "/services/"+svcs[2].ID()+"/?action=update", `{"scale": 3}`)
	if code != http.StatusAccepted {
		t.Fatalf("scale: %d", code)
	}
	if err := svcs[2].WaitState(t.Context(), "active"); err != nil {
		t.Fatal(err)
	}
	if st := svcs[2].Status(); st.HealthState != "initializing" {
		t.Errorf("never-healthy-image: %+v, want initializing", st)
	}
}

// TestDockerSocketFaults: the dockersocket knobs act over HTTP on the lab's
// Rancher: the action refused as Cattle answers, then the agent away (the host
// reports reconnecting) and back.
func TestDockerSocketFaults(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{ImageSize: 32 << 10, Services: 1, HealthDelay: time.Millisecond})
	h := l.Hosts()[0]
	_, hosts := rancherDo(t, l, h.Env, http.MethodGet, "/hosts?hostname="+h.Name, "")
	data, _ := hosts["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("host %s in Rancher: %v", h.Name, hosts)
	}
	id := data[0].(map[string]any)["id"].(string)
	inject(t, l, "rancher:dockersocket=403")
	if code, body := rancherDo(t, l, h.Env, http.MethodPost, "/hosts/"+id+"/?action=dockersocket", ""); code != 403 || body["code"] != "Forbidden" {
		t.Errorf("dockersocket=403: %d %v", code, body)
	}
	inject(t, l, "rancher:dockersocket=0")
	if code, body := rancherDo(t, l, h.Env, http.MethodPost, "/hosts/"+id+"/?action=dockersocket", ""); code != 200 || body["type"] != "hostAccess" {
		t.Errorf("dockersocket=0: %d %v, want a hostAccess", code, body)
	}
	inject(t, l, "rancher:agent-down="+h.Name)
	if _, body := rancherDo(t, l, h.Env, http.MethodGet, "/hosts/"+id, ""); body["state"] != "reconnecting" {
		t.Errorf("agent-down: host state %v, want reconnecting", body["state"])
	}
	inject(t, l, "rancher:agent-up="+h.Name)
	if _, body := rancherDo(t, l, h.Env, http.MethodGet, "/hosts/"+id, ""); body["state"] != "active" {
		t.Errorf("agent-up: host state %v, want active", body["state"])
	}
	inject(t, l, "rancher:relay-drop=100")
}
