package ranchersim

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "bool"
	}
	return "?"
}

// sameShape checks got has want's key set, and the JSON type of every field both
// carry as non-null; fields null in want must be null in got too when nullAlike.
func sameShape(t *testing.T, what string, got, want map[string]any, nullAlike bool) {
	t.Helper()
	if keys(got) != keys(want) {
		t.Errorf("%s keys\n got %s\nwant %s", what, keys(got), keys(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			continue
		}
		if w == nil {
			if nullAlike && g != nil {
				t.Errorf("%s.%s = %v, want null", what, k, g)
			}
			continue
		}
		if g != nil && jsonType(g) != jsonType(w) {
			t.Errorf("%s.%s is %s, want %s", what, k, jsonType(g), jsonType(w))
		}
	}
}

// linkSuffixes maps each link to what follows the resource's own path.
func linkSuffixes(t *testing.T, m map[string]any, idPath string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, v := range m {
		s, _ := v.(string)
		i := strings.Index(s, idPath)
		if i < 0 {
			t.Errorf("link %s = %q does not contain %q", k, s, idPath)
			continue
		}
		out[k] = s[i+len(idPath):]
	}
	return out
}

func TestServiceResourceMatchesFixture(t *testing.T) {
	t.Parallel()
	want := readFixture(t, "service-active-v2beta.json")
	f := newFixture(t, 1, WithHealthDelay(time.Millisecond))
	svc := f.service("web", "frontend", "app:1.0", 1, WithHealthCheck(2*time.Second, 2))
	// The fixture carries an upgrade (startFirst); do one so the field is populated.
	if code, m := f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:1.0", 2, 1000, true)); code != http.StatusAccepted {
		t.Fatalf("upgrade %d %v", code, m)
	}
	f.waitState(svc, "upgraded")
	f.action(svc, "finishupgrade", nil)
	f.waitState(svc, "active")
	got := f.get(svc)

	sameShape(t, "service", got, want, true)
	if !strings.HasPrefix(got["links"].(map[string]any)["self"].(string), f.s.URL()+"/v2-beta/projects/") {
		t.Errorf("self link not absolute: %v", got["links"])
	}
	gl := linkSuffixes(t, got["links"].(map[string]any), "/services/"+svc.ID())
	wl := linkSuffixes(t, want["links"].(map[string]any), "/services/1s56")
	if !reflect.DeepEqual(gl, wl) {
		t.Errorf("link suffixes\n got %v\nwant %v", gl, wl)
	}
	ga := linkSuffixes(t, got["actions"].(map[string]any), "/services/"+svc.ID())
	wa := linkSuffixes(t, want["actions"].(map[string]any), "/services/1s56")
	if !reflect.DeepEqual(ga, wa) {
		t.Errorf("action suffixes\n got %v\nwant %v", ga, wa)
	}
	glc, wlc := got["launchConfig"].(map[string]any), want["launchConfig"].(map[string]any)
	sameShape(t, "launchConfig", glc, wlc, false)
	sameShape(t, "launchConfig.healthCheck", glc["healthCheck"].(map[string]any), wlc["healthCheck"].(map[string]any), false)
	gu, wu := got["upgrade"].(map[string]any), want["upgrade"].(map[string]any)
	sameShape(t, "upgrade", gu, wu, true)
	gin, win := gu["inServiceStrategy"].(map[string]any), wu["inServiceStrategy"].(map[string]any)
	sameShape(t, "upgrade.inServiceStrategy", gin, win, false)
	sameShape(t, "upgrade.inServiceStrategy.previousLaunchConfig", gin["previousLaunchConfig"].(map[string]any),
		win["previousLaunchConfig"].(map[string]any), false)
	for k, v := range map[string]any{"type": "service", "baseType": "service", "kind": "service",
		"state": "active", "healthState": "healthy", "transitioning": "no", "stackId": svc.StackID()} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if lc := glc["imageUuid"]; lc != "docker:app:1.0" {
		t.Errorf("imageUuid %v", lc)
	}
}

func TestCollectionEnvelopeMatchesFixture(t *testing.T) {
	t.Parallel()
	want := readFixture(t, "collection-services-v2beta.json")
	f := newFixture(t, 1)
	f.service("web", "frontend", "app:1.0", 1)
	code, got := f.do(http.MethodGet, f.base+"/services", nil)
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, got)
	}
	sameShape(t, "collection", got, want, false)
	for _, k := range []string{"pagination", "filters", "sortLinks"} {
		if keys(got[k].(map[string]any)) != keys(want[k].(map[string]any)) {
			t.Errorf("%s keys\n got %s\nwant %s", k, keys(got[k].(map[string]any)), keys(want[k].(map[string]any)))
		}
	}
	if !reflect.DeepEqual(got["pagination"], want["pagination"]) {
		t.Errorf("pagination %v, want %v", got["pagination"], want["pagination"])
	}
	if got["type"] != "collection" || got["resourceType"] != "service" || got["sort"] != nil {
		t.Errorf("envelope %v %v %v", got["type"], got["resourceType"], got["sort"])
	}
	wd := want["data"].([]any)[0].(map[string]any)
	gd := got["data"].([]any)[0].(map[string]any)
	// The fixture's element has an upgrade; a never-upgraded service has upgrade null.
	if keys(gd) != keys(wd) {
		t.Errorf("data[0] keys\n got %s\nwant %s", keys(gd), keys(wd))
	}
	for f, link := range got["sortLinks"].(map[string]any) {
		if !strings.HasSuffix(link.(string), "/services?sort="+f) {
			t.Errorf("sortLinks.%s = %v", f, link)
		}
	}
}

func TestStackMatchesFixture(t *testing.T) {
	t.Parallel()
	want := readFixture(t, "stack-v2beta.json")
	wantColl := readFixture(t, "collection-stacks-v2beta-name-filter.json")
	f := newFixture(t, 1)
	svc := f.service("teststack", "web", "app:1.0", 1)
	f.service("other", "web", "app:1.0", 1)
	code, coll := f.do(http.MethodGet, f.base+"/stacks?name=teststack", nil)
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, coll)
	}
	sameShape(t, "stacks collection", coll, wantColl, false)
	for _, k := range []string{"filters", "pagination", "sortLinks"} {
		if keys(coll[k].(map[string]any)) != keys(wantColl[k].(map[string]any)) {
			t.Errorf("%s keys\n got %s\nwant %s", k, keys(coll[k].(map[string]any)), keys(wantColl[k].(map[string]any)))
		}
	}
	if !reflect.DeepEqual(coll["filters"].(map[string]any)["name"], wantColl["filters"].(map[string]any)["name"]) {
		t.Errorf("filters.name %v", coll["filters"].(map[string]any)["name"])
	}
	data := coll["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("name filter returned %d stacks", len(data))
	}
	got := data[0].(map[string]any)
	sameShape(t, "stack", got, want, true)
	gl := linkSuffixes(t, got["links"].(map[string]any), "/stacks/"+svc.StackID())
	wl := linkSuffixes(t, want["links"].(map[string]any), "/stacks/1st20")
	if !reflect.DeepEqual(gl, wl) {
		t.Errorf("stack link suffixes\n got %v\nwant %v", gl, wl)
	}
	if ids := got["serviceIds"].([]any); len(ids) != 1 || ids[0] != svc.ID() {
		t.Errorf("serviceIds %v", ids)
	}
}

func TestHostMatchesFragmentAndQuirk(t *testing.T) {
	t.Parallel()
	want := readFixture(t, "host-disconnected-fragment.json")
	f := newFixture(t, 2)
	if err := f.p.SetHostState("host0", "active", "disconnected"); err != nil {
		t.Fatal(err)
	}
	code, coll := f.do(http.MethodGet, f.base+"/hosts?hostname=host0", nil)
	if code != http.StatusOK || len(coll["data"].([]any)) != 1 {
		t.Fatalf("%d %v", code, coll)
	}
	got := coll["data"].([]any)[0].(map[string]any)
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("host lacks %s", k)
			continue
		}
		if w != nil && g != nil && jsonType(g) != jsonType(w) {
			t.Errorf("host.%s is %s, want %s", k, jsonType(g), jsonType(w))
		}
	}
	if got["state"] != "disconnected" || got["agentState"] != "disconnected" || got["agentIpAddress"] != "10.0.0.1" {
		t.Errorf("quirk: state %v agentState %v ip %v", got["state"], got["agentState"], got["agentIpAddress"])
	}
	for _, k := range []string{"id", "type", "baseType", "links", "actions", "hostname", "labels", "dockerVersion", "instanceIds"} {
		if _, ok := got[k]; !ok {
			t.Errorf("host lacks %s", k)
		}
	}
	// A disconnected host gets no new containers.
	svc := f.service("web", "app", "app:1.0", 2)
	code, inst := f.do(http.MethodGet, f.base+"/services/"+svc.ID()+"/instances", nil)
	if code != http.StatusOK {
		t.Fatal(code)
	}
	for _, d := range inst["data"].([]any) {
		if d.(map[string]any)["hostId"] == got["id"] {
			t.Errorf("container %v scheduled on the disconnected host", d.(map[string]any)["id"])
		}
	}
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	svc := f.service("web", "app", "app:1.0", 1)
	retain := f.service("web", "retained", "app:1.0", 1, WithRetainIP())
	lc := f.get(svc)["launchConfig"]
	tests := []struct {
		name       string
		method     string
		path, body string
		bodyAny    any
		status     int
		fixture    string
		code       string
		fieldName  any // "absent" for no key
		message    any
	}{
		{name: "404 unknown service", method: "GET", path: "/services/1s999", status: 404, fixture: "error-404-not-found.json"},
		{name: "404 wrong id prefix", method: "GET", path: "/services/1h1", status: 404, fixture: "error-404-not-found.json"},
		{name: "404 unknown collection", method: "GET", path: "/frobs", status: 404, fixture: "error-404-not-found.json"},
		{name: "InvalidOption startFirst retainIp", method: "POST", path: "/services/" + retain.ID() + "/?action=upgrade",
			bodyAny: map[string]any{"inServiceStrategy": map[string]any{"startFirst": true, "launchConfig": lc}},
			status:  422, fixture: "error-422-invalid-option.json"},
		{name: "InvalidBodyContent", method: "POST", path: "/services/" + svc.ID() + "/?action=upgrade", body: `{"inServiceStrategy":`,
			status: 400, code: "InvalidBodyContent", fieldName: "absent"},
		{name: "MissingRequired", method: "POST", path: "/services/" + svc.ID() + "/?action=upgrade", body: `{}`,
			status: 422, code: "MissingRequired", fieldName: "Upgrade strategy needs to be set"},
		{name: "InvalidOption no launch config", method: "POST", path: "/services/" + svc.ID() + "/?action=upgrade",
			bodyAny: map[string]any{"inServiceStrategy": map[string]any{"batchSize": 1}},
			status:  422, code: "InvalidOption", fieldName: "LaunchConfig/secondaryLaunchConfigs need to be specified for inService strategy"},
		{name: "MinLimitExceeded batchSize", method: "POST", path: "/services/" + svc.ID() + "/?action=upgrade",
			bodyAny: map[string]any{"inServiceStrategy": map[string]any{"batchSize": 0, "launchConfig": lc}},
			status:  422, code: "MinLimitExceeded", fieldName: "batchSize"},
		{name: "MinLimitExceeded intervalMillis", method: "POST", path: "/services/" + svc.ID() + "?action=upgrade",
			bodyAny: map[string]any{"inServiceStrategy": map[string]any{"intervalMillis": 99, "launchConfig": lc}},
			status:  422, code: "MinLimitExceeded", fieldName: "intervalMillis"},
		{name: "InvalidAction", method: "POST", path: "/services/" + svc.ID() + "/?action=frobnicate",
			status: 422, code: "InvalidAction", fieldName: "action"},
		{name: "ActionNotAvailable without slash", method: "POST", path: "/services/" + svc.ID() + "?action=finishupgrade",
			status: 422, fixture: "error-422-action-not-available.json"},
		{name: "405 DELETE host", method: "DELETE", path: "/hosts/1h1", status: 405, code: "MethodNotAllowed", fieldName: "absent", message: "Method Not Allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := tc.bodyAny
			if tc.body != "" {
				body = tc.body
			}
			code, got := f.do(tc.method, f.base+tc.path, body)
			if code != tc.status {
				t.Fatalf("status %d, want %d (%v)", code, tc.status, got)
			}
			if tc.fixture != "" {
				sameErrorBody(t, got, readFixture(t, tc.fixture))
				return
			}
			for k, v := range map[string]any{"type": "error", "baseType": "error", "code": tc.code, "status": float64(tc.status), "detail": nil} {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if got["message"] != tc.message {
				t.Errorf("message %v, want %v", got["message"], tc.message)
			}
			fn, has := got["fieldName"]
			if tc.fieldName == "absent" {
				if has {
					t.Errorf("fieldName present: %v", fn)
				}
			} else if fn != tc.fieldName {
				t.Errorf("fieldName %v, want %v", fn, tc.fieldName)
			}
		})
	}
	if st := svc.State(); st != "active" {
		t.Errorf("rejected actions changed the state to %s", st)
	}
}

func TestFailNextAction(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	svc := f.service("web", "app", "app:1.0", 1)
	f.s.FailNextAction(http.StatusConflict)
	code, got := f.action(svc, "restart", nil)
	if code != http.StatusConflict || got["code"] != "Conflict" || got["message"] != "Conflict" {
		t.Fatalf("%d %v", code, got)
	}
	if _, has := got["fieldName"]; has {
		t.Errorf("409 with fieldName")
	}
	f.s.FailNextAction(http.StatusUnprocessableEntity)
	code, got = f.action(svc, "restart", nil)
	if code != http.StatusUnprocessableEntity || got["code"] != "ActionNotAvailable" {
		t.Fatalf("%d %v", code, got)
	}
	if code, _ := f.action(svc, "restart", nil); code != http.StatusAccepted {
		t.Fatalf("fault not one-shot: %d", code)
	}
	f.waitState(svc, "active")
}

// The launch config a client sends is stored as received (only version replaced),
// unknown fields included; previousLaunchConfig is the old one verbatim.
func TestLaunchConfigRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	svc := f.service("web", "app", "app:1.0", 1,
		WithLaunchConfigField("notModelled", map[string]any{"nested": []any{1, "x", true}, "n": 1.5}))
	before := f.get(svc)
	old := cloneMap(before["launchConfig"].(map[string]any))
	if old["version"] != "0" {
		t.Errorf("new service version %v, want \"0\"", old["version"])
	}
	var oldJSON any
	b0, _ := json.Marshal(old)
	_ = json.Unmarshal(b0, &oldJSON)
	sent := upgradeBody(before, "registry.local/app", 1, 100, false)
	sentLC := sent["inServiceStrategy"].(map[string]any)["launchConfig"].(map[string]any)
	sentLC["extraFromClient"] = []any{"kept"}
	code, accepted := f.action(svc, "upgrade", sent)
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, accepted)
	}
	// The 202 answer already carries the new launch config and the stored upgrade.
	if lc := accepted["launchConfig"].(map[string]any); lc["imageUuid"] != "docker:registry.local/app" || lc["version"] == "0" {
		t.Errorf("202 launchConfig %v %v", lc["imageUuid"], lc["version"])
	}
	if up, _ := accepted["upgrade"].(map[string]any); up == nil || up["inServiceStrategy"].(map[string]any)["previousLaunchConfig"] == nil {
		t.Errorf("202 upgrade %v", accepted["upgrade"])
	}
	f.waitState(svc, "upgraded")
	after := f.get(svc)
	got := after["launchConfig"].(map[string]any)
	v1, _ := got["version"].(string)
	if len(v1) != 36 || v1 == "0" {
		t.Errorf("version after upgrade %q, want a UUID", v1)
	}
	delete(got, "version")
	want := map[string]any{}
	b, _ := json.Marshal(sentLC)
	_ = json.Unmarshal(b, &want)
	delete(want, "version")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored launchConfig differs from sent\n got %v\nwant %v", got, want)
	}
	if got["imageUuid"] != "docker:registry.local/app" {
		t.Errorf("imageUuid %v (the server adds no :latest)", got["imageUuid"])
	}
	in := after["upgrade"].(map[string]any)["inServiceStrategy"].(map[string]any)
	if !reflect.DeepEqual(in["previousLaunchConfig"], oldJSON) {
		t.Errorf("previousLaunchConfig\n got %v\nwant %v", in["previousLaunchConfig"], oldJSON)
	}
	// A second upgrade gets another fresh version; rollback restores the previous one.
	if code, m := f.action(svc, "finishupgrade", nil); code != http.StatusAccepted {
		t.Fatalf("%d %v", code, m)
	}
	f.waitState(svc, "active")
	f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:1.0", 1, 100, false))
	f.waitState(svc, "upgraded")
	v2 := f.get(svc)["launchConfig"].(map[string]any)["version"]
	if v2 == v1 || len(v2.(string)) != 36 {
		t.Errorf("second version %v (first %v)", v2, v1)
	}
	f.action(svc, "rollback", nil)
	f.waitState(svc, "active")
	final := f.get(svc)
	if final["launchConfig"].(map[string]any)["version"] != v1 {
		t.Errorf("rollback version %v, want %v", final["launchConfig"].(map[string]any)["version"], v1)
	}
	if final["upgrade"] == nil {
		t.Errorf("upgrade field dropped after rollback")
	}
}
