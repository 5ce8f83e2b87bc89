package ranchersim

import (
	"net/http"
	"strings"
	"testing"
)

// TestGenericObjectCattleFlow replays cattle's tests/integration/cattletest/core/
// test_generic_object.py: create, list by kind and key, update resourceData, delete,
// and the list is empty.
func TestGenericObjectCattleFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	data := map[string]any{"url": "http://x/?token=t", "driver": "scaleService",
		"config": map[string]any{"serviceId": "1s1", "amount": 4}}
	code, g := f.do(http.MethodPost, f.base+"/genericobjects", map[string]any{
		"name": "Scale out service X by 1", "key": "k1", "kind": "webhookReceiver", "resourceData": data})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, g)
	}
	id, _ := g["id"].(string)
	if !strings.HasPrefix(id, "1go") || g["type"] != "genericObject" || g["baseType"] != "genericObject" ||
		g["state"] != "active" || g["name"] != "Scale out service X by 1" || g["key"] != "k1" ||
		g["kind"] != "webhookReceiver" || g["accountId"] != f.p.ID() || g["removed"] != nil {
		t.Fatalf("created object: %v", g)
	}
	if rd, _ := g["resourceData"].(map[string]any); rd["driver"] != "scaleService" {
		t.Errorf("resourceData = %v", g["resourceData"])
	}
	if links, _ := g["links"].(map[string]any); links["self"] != f.base+"/genericobjects/"+id {
		t.Errorf("links = %v", g["links"])
	}

	code, list := f.do(http.MethodGet, f.base+"/genericobjects?kind=webhookReceiver&key=k1", nil)
	if code != http.StatusOK || len(list["data"].([]any)) != 1 || list["resourceType"] != "genericObject" {
		t.Fatalf("list: %d %v", code, list)
	}
	filters := list["filters"].(map[string]any)
	if filters["kind"] == nil || filters["key"] == nil || filters["name"] != nil {
		t.Errorf("filters = %v", filters)
	}

	data["url"] = "http://x/?token=tupdated"
	code, up := f.do(http.MethodPut, f.base+"/genericobjects/"+id, map[string]any{
		"resourceData": data, "key": "other"})
	if code != http.StatusOK {
		t.Fatalf("update: %d %v", code, up)
	}
	if rd, _ := up["resourceData"].(map[string]any); !strings.HasSuffix(rd["url"].(string), "updated") {
		t.Errorf("updated resourceData = %v", up["resourceData"])
	}
	if up["key"] != "k1" {
		t.Errorf("key is create-only, PUT changed it to %v", up["key"])
	}

	code, del := f.do(http.MethodDelete, f.base+"/genericobjects/"+id, nil)
	if code != http.StatusOK || del["state"] != "removed" || del["removed"] == nil {
		t.Fatalf("delete: %d %v", code, del)
	}
	_, list = f.do(http.MethodGet, f.base+"/genericobjects?key=k1", nil)
	if n := len(list["data"].([]any)); n != 0 {
		t.Errorf("list after delete: %d objects, want 0", n)
	}
}

// TestGenericObjectRemoved: a removed object is gone from lists at once but a GET by
// id still shows it; a second DELETE is 405; a PUT still writes and shows "removed".
func TestGenericObjectRemoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	_, g := f.do(http.MethodPost, f.base+"/genericobjects", map[string]any{"kind": "k", "key": "e"})
	url := f.base + "/genericobjects/" + g["id"].(string)
	if code, _ := f.do(http.MethodDelete, url, nil); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	tests := []struct {
		name      string
		method    string
		body      any
		wantCode  int
		wantState string
	}{
		{"get", http.MethodGet, nil, http.StatusOK, "removed"},
		{"delete again", http.MethodDelete, nil, http.StatusMethodNotAllowed, ""},
		{"put", http.MethodPut, map[string]any{"resourceData": map[string]any{"a": "b"}}, http.StatusOK, "removed"},
	}
	for _, tt := range tests {
		code, m := f.do(tt.method, url, tt.body)
		if code != tt.wantCode || (tt.wantState != "" && m["state"] != tt.wantState) {
			t.Errorf("%s: %d %v, want %d state %q", tt.name, code, m, tt.wantCode, tt.wantState)
		}
	}
	if n := len(f.p.GenericObjects()); n != 0 {
		t.Errorf("GenericObjects() = %d, want 0", n)
	}
}

// TestGenericObjectListFilters: kind and key filters AND together, ids grow across
// projects, each project sees only its own objects, and pagination follows next.
func TestGenericObjectListFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	other := Keys{Access: "AK2", Secret: "SK2"}
	p2 := f.s.AddProject("prod", other)
	create := func(base string, k Keys, kind, key string) string {
		t.Helper()
		code, g := doReq(t, f.client, http.MethodPost, base+"/genericobjects",
			map[string]any{"kind": kind, "key": key}, k)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, g)
		}
		return g["id"].(string)
	}
	base2 := f.s.URL() + "/v2-beta/projects/" + p2.ID()
	var ids []string
	ids = append(ids, create(f.base, testKeys, "droverLease", "a"))
	ids = append(ids, create(base2, other, "droverLease", "a"))
	ids = append(ids, create(f.base, testKeys, "droverLease", "b"))
	ids = append(ids, create(f.base, testKeys, "webhookReceiver", "a"))
	ids = append(ids, create(f.base, testKeys, "droverLease", "a"))
	for i := 1; i < len(ids); i++ {
		if idNum(ids[i]) <= idNum(ids[i-1]) {
			t.Errorf("ids not increasing: %v", ids)
		}
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"kind=droverLease&key=a", []string{ids[0], ids[4]}},
		{"key=a", []string{ids[0], ids[3], ids[4]}},
		{"kind=droverLease", []string{ids[0], ids[2], ids[4]}},
		{"kind=droverLease&key=a&limit=1", []string{ids[0]}},
		{"key=none", nil},
	}
	for _, tt := range tests {
		code, list := f.do(http.MethodGet, f.base+"/genericobjects?"+tt.query, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", tt.query, code)
		}
		var got []string
		for _, d := range list["data"].([]any) {
			got = append(got, d.(map[string]any)["id"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: %v, want %v", tt.query, got, tt.want)
		}
		if strings.Contains(tt.query, "limit=1") {
			next, _ := list["pagination"].(map[string]any)["next"].(string)
			_, page2 := f.do(http.MethodGet, next, nil)
			if d := page2["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != ids[4] {
				t.Errorf("next page: %v", page2["data"])
			}
		}
	}
	// The other project's key reaches neither this project's objects nor its URLs.
	if code, _ := doReq(t, f.client, http.MethodGet, f.base+"/genericobjects", nil, other); code != http.StatusForbidden {
		t.Errorf("other key on this project: %d, want 403", code)
	}
	if code, _ := doReq(t, f.client, http.MethodGet, base2+"/genericobjects/"+ids[0], nil, other); code != http.StatusNotFound {
		t.Errorf("this project's object through the other project: %d, want 404", code)
	}
	if code, _ := doReq(t, f.client, http.MethodDelete, base2+"/genericobjects/"+ids[0], nil, other); code != http.StatusNotFound {
		t.Errorf("delete through the other project: %d, want 404", code)
	}
}

func TestGenericObjectBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	tests := []struct {
		name      string
		body      any
		wantCode  int
		wantField string
	}{
		{"resourceData not a map", map[string]any{"resourceData": "x"}, 422, "resourceData"},
		{"key not a string", map[string]any{"key": 5}, 422, "key"},
		{"key too long", map[string]any{"key": strings.Repeat("k", 256)}, 422, "key"},
		{"malformed JSON", "{", 400, ""},
	}
	for _, tt := range tests {
		code, m := f.do(http.MethodPost, f.base+"/genericobjects", tt.body)
		if code != tt.wantCode || (tt.wantField != "" && m["fieldName"] != tt.wantField) {
			t.Errorf("%s: %d %v, want %d fieldName %q", tt.name, code, m, tt.wantCode, tt.wantField)
		}
	}
	code, g := f.do(http.MethodPost, f.base+"/genericobjects", nil)
	if code != http.StatusCreated || g["kind"] != "genericObject" || g["key"] != nil {
		t.Errorf("empty create: %d %v (kind defaults to the type)", code, g)
	}
	if code, _ := f.do(http.MethodPost, f.base+"/services", map[string]any{}); code != http.StatusMethodNotAllowed {
		t.Errorf("POST on services: %d, want 405", code)
	}
	code, sc := f.do(http.MethodGet, f.base+"/schemas/genericObject", nil)
	if code != http.StatusOK || sc["links"].(map[string]any)["collection"] != f.base+"/genericobjects" {
		t.Errorf("schema: %d %v", code, sc)
	}
}
