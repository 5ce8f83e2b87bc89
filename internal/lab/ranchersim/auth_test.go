package ranchersim

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuthAndDiscovery(t *testing.T) {
	t.Parallel()
	admin := Keys{Access: "ADMIN", Secret: "ADMINSECRET"}
	f := newFixture(t, 1, WithAccountKeys(admin))
	other := f.s.AddProject("prod", Keys{Access: "PK", Secret: "PS"})
	svc := f.service("web", "app", "app:1.0", 1)
	if _, err := other.AddService("web", "app", "app:1.0", 0); err != nil {
		t.Fatal(err)
	}
	u := f.s.URL()
	tests := []struct {
		name   string
		url    string
		keys   Keys
		status int
		schema string // X-API-Schemas suffix
		count  int    // data length for collections, -1 for resources
	}{
		{"no key", u + "/v2-beta/projects", Keys{}, 401, "/v2-beta/schemas", -1},
		{"wrong secret", u + "/v2-beta/projects", Keys{Access: "AK", Secret: "nope"}, 401, "/v2-beta/schemas", -1},
		{"env key sees own project", u + "/v2-beta/projects", testKeys, 200, "/v2-beta/schemas", 1},
		{"env key on other project", u + "/v2-beta/projects/" + other.ID() + "/services", testKeys, 403, "/v2-beta/schemas", -1},
		{"env key unscoped services", u + "/v2-beta/services", testKeys, 200, "/v2-beta/schemas", 1},
		{"project base", u + "/v2-beta/projects/" + f.p.ID(), testKeys, 200, "/v2-beta/projects/" + f.p.ID() + "/schemas", -1},
		{"project schemas", u + "/v2-beta/projects/" + f.p.ID() + "/schemas", testKeys, 200, "/v2-beta/projects/" + f.p.ID() + "/schemas", 10}, // 9 types plus genericObject
		{"api base", u + "/v2-beta", testKeys, 200, "/v2-beta/schemas", -1},
		{"v1 base", u + "/v1/projects/" + f.p.ID() + "/services/" + svc.ID(), testKeys, 200, "/v1/projects/" + f.p.ID() + "/schemas", -1},
		{"v1 environments", u + "/v1/projects/" + f.p.ID() + "/environments", testKeys, 200, "/v1/projects/" + f.p.ID() + "/schemas", 1},
		{"account key all projects", u + "/v2-beta/projects", admin, 200, "/v2-beta/schemas", 2},
		{"account key all services", u + "/v2-beta/services", admin, 200, "/v2-beta/schemas", 2},
		{"account key other project", u + "/v2-beta/projects/" + other.ID() + "/services", admin, 200, "/v2-beta/projects/" + other.ID() + "/schemas", 1},
		// Below /projects/{id} the id names the account acted as: one that does not
		// exist is 403 like one the key cannot reach (ApiAuthenticator); the project
		// resource itself is an ordinary read, 404.
		{"unknown project", u + "/v2-beta/projects/1a999/services", testKeys, 403, "/v2-beta/schemas", -1},
		{"account key unknown project", u + "/v2-beta/projects/1a999/services", admin, 403, "/v2-beta/schemas", -1},
		{"unknown project resource", u + "/v2-beta/projects/1a999", testKeys, 404, "/v2-beta/schemas", -1},
		// Project names match case-insensitively (ProjectResourceManager.listInternal).
		{"project name any case", u + "/v2-beta/projects?name=DEV&removed_null=1&all=true", testKeys, 200, "/v2-beta/schemas", 1},
		{"account key project name any case", u + "/v2-beta/projects?name=Dev", admin, 200, "/v2-beta/schemas", 1},
		{"project name other", u + "/v2-beta/projects?name=dev2", testKeys, 200, "/v2-beta/schemas", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, tc.url, nil)
			if tc.keys.Access != "" {
				req.SetBasicAuth(tc.keys.Access, tc.keys.Secret)
			}
			resp, err := f.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if h := resp.Header.Get("X-API-Schemas"); h != u+tc.schema {
				t.Errorf("X-API-Schemas %q, want %q", h, u+tc.schema)
			}
			code, m := doReq(t, f.client, http.MethodGet, tc.url, nil, tc.keys)
			if code >= 400 {
				want := map[int]string{401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}[code]
				if m["type"] != "error" || m["code"] != want || m["message"] != want || m["status"] != float64(code) {
					t.Errorf("error body %v", m)
				}
				return
			}
			if tc.count >= 0 && len(m["data"].([]any)) != tc.count {
				t.Errorf("%d items, want %d", len(m["data"].([]any)), tc.count)
			}
		})
	}
	// /v1 links keep the /v1 base.
	_, res := f.do(http.MethodGet, u+"/v1/projects/"+f.p.ID()+"/services/"+svc.ID(), nil)
	if self := res["links"].(map[string]any)["self"].(string); !strings.HasPrefix(self, u+"/v1/") {
		t.Errorf("v1 self link %s", self)
	}
	_, proj := f.do(http.MethodGet, u+"/v2-beta/projects/"+f.p.ID(), nil)
	if proj["type"] != "project" || !strings.HasSuffix(proj["links"].(map[string]any)["subscribe"].(string), "/projects/"+f.p.ID()+"/subscribe") {
		t.Errorf("project %v", proj)
	}
}

func TestFailRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	f.s.FailRequests(2, http.StatusServiceUnavailable)
	for i := range 2 {
		code, m := f.do(http.MethodGet, f.base+"/services", nil)
		if code != http.StatusServiceUnavailable || m["type"] != "error" {
			t.Fatalf("request %d: %d %v", i, code, m)
		}
	}
	if code, _ := f.do(http.MethodGet, f.base+"/services", nil); code != http.StatusOK {
		t.Fatalf("third request %d", code)
	}
}

// Restart keeps state and the port; a process in flight continues.
func TestRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	svc := f.service("web", "app", "app:1.0", 2)
	release := f.hosts[0].hold("pull")
	code, _ := f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:2.0", 1, 100, false))
	if code != http.StatusAccepted {
		t.Fatal(code)
	}
	url := f.s.URL()
	if err := f.s.Restart(); err != nil {
		t.Fatal(err)
	}
	if f.s.URL() != url {
		t.Errorf("URL changed %s -> %s", url, f.s.URL())
	}
	f.client.CloseIdleConnections()
	if res := f.get(svc); res["state"] != "upgrading" {
		t.Errorf("after restart: %v", res["state"])
	}
	release()
	f.waitState(svc, "upgraded")
	if res := f.get(svc); imageRef(res["launchConfig"].(map[string]any)) != "app:2.0" {
		t.Errorf("image %v", res["launchConfig"])
	}
}
