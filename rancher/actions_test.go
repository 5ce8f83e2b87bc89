package rancher

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// richService is the captured frontend service with fields this package
// does not model added to its launch config, and two sidekicks.
func richService(t *testing.T) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(readFixture(t, "service-active-v2beta.json"), &m); err != nil {
		t.Fatal(err)
	}
	lc := string(m["launchConfig"])
	lc = strings.Replace(lc, `"drainTimeoutMs": 0`, `"drainTimeoutMs": 0, "zzFuture": {"nested": [1, 2.50, "x", {"deep": true}], "n": null}, "cpuQuota": 1.0e3`, 1)
	if !strings.Contains(lc, "zzFuture") {
		t.Fatal("fixture changed: cannot add unknown fields")
	}
	m["launchConfig"] = json.RawMessage(lc)
	m["secondaryLaunchConfigs"] = json.RawMessage(`[
		{"type":"secondaryLaunchConfig","name":"sidecar","imageUuid":"docker:side:1","zzOther":{"k":[true,false]},"labels":{"x":"y"}},
		{"type":"secondaryLaunchConfig","name":"logger","imageUuid":"docker:log:1","dataVolumesFrom":["frontend"]}]`)
	b, _ := json.Marshal(m)
	return string(b)
}

// orderedKeys lists an object's keys in document order (independently of
// the package's own LaunchConfig decoding).
func orderedKeys(t *testing.T, obj json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// sameExceptImage asserts, key by key, that sent equals orig except
// imageUuid, which must be wantImage; key order must be kept too.
func sameExceptImage(t *testing.T, what string, orig, sent json.RawMessage, wantImage string) {
	t.Helper()
	var o, s map[string]json.RawMessage
	if err := json.Unmarshal(orig, &o); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sent, &s); err != nil {
		t.Fatal(err)
	}
	if ok, sk := orderedKeys(t, orig), orderedKeys(t, sent); !slices.Equal(ok, sk) {
		t.Errorf("%s: keys %v\nwant %v", what, sk, ok)
	}
	for k, ov := range o {
		sv, present := s[k]
		if !present {
			t.Errorf("%s: key %q not sent", what, k)
			continue
		}
		if k == "imageUuid" {
			if got := string(sv); got != `"`+wantImage+`"` {
				t.Errorf("%s: imageUuid = %s, want %q", what, got, wantImage)
			}
			continue
		}
		var oc, sc bytes.Buffer
		_ = json.Compact(&oc, ov)
		_ = json.Compact(&sc, sv)
		if oc.String() != sc.String() {
			t.Errorf("%s: key %q = %s, want %s (byte for byte)", what, k, sc.String(), oc.String())
		}
	}
	for k := range s {
		if _, ok := o[k]; !ok {
			t.Errorf("%s: extra key %q sent", what, k)
		}
	}
}

func TestUpgradeSendsCurrentLaunchConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		spec         UpgradeSpec
		wantStrategy map[string]string // raw JSON of the scalar fields
		wantPrimary  string            // "" = launchConfig must not be sent
		wantSide     map[string]string // sidekick -> image sent
		wantErr      error
		wantErrIn    string
	}{
		{name: "image", spec: UpgradeSpec{Image: "registry.eu/app:2", BatchSize: 2, IntervalMillis: 1000, StartFirst: true},
			wantStrategy: map[string]string{"batchSize": "2", "intervalMillis": "1000", "startFirst": "true"},
			wantPrimary:  "docker:registry.eu/app:2"},
		{name: "docker prefix, server defaults", spec: UpgradeSpec{Image: "docker:registry.eu/app:2"},
			wantStrategy: map[string]string{"startFirst": "false"}, wantPrimary: "docker:registry.eu/app:2"},
		{name: "image and sidekick", spec: UpgradeSpec{Image: "app:2", Sidekicks: map[string]string{"sidecar": "side:2"}},
			wantStrategy: map[string]string{"startFirst": "false"}, wantPrimary: "docker:app:2", wantSide: map[string]string{"sidecar": "docker:side:2"}},
		{name: "sidekicks only", spec: UpgradeSpec{Sidekicks: map[string]string{"logger": "log:2", "sidecar": "side:3"}},
			wantStrategy: map[string]string{"startFirst": "false"}, wantSide: map[string]string{"sidecar": "docker:side:3", "logger": "docker:log:2"}},
		{name: "unknown sidekick", spec: UpgradeSpec{Image: "app:2", Sidekicks: map[string]string{"nope": "x:1"}}, wantErr: ErrNotFound},
		{name: "nothing", spec: UpgradeSpec{BatchSize: 1}, wantErrIn: "neither Image nor Sidekicks"},
		{name: "interval", spec: UpgradeSpec{Image: "app:2", IntervalMillis: 50}, wantErrIn: "below 100"},
		{name: "batch", spec: UpgradeSpec{Image: "app:2", BatchSize: -1}, wantErrIn: "negative"},
		{name: "bad ref", spec: UpgradeSpec{Image: "app 2"}, wantErrIn: "invalid image reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.add(richService(t))
			var orig map[string]json.RawMessage
			_ = json.Unmarshal([]byte(richService(t)), &orig)
			var origSide []json.RawMessage
			_ = json.Unmarshal(orig["secondaryLaunchConfigs"], &origSide)
			c := f.client(t)
			// A stale copy: the client must re-read, not send this one.
			stale := &Service{Resource: Resource{ID: "1s56", Type: "service", AccountID: "1a10",
				Links: map[string]string{"self": "/v2-beta/projects/1a10/services/1s56"}}}
			got, err := c.Upgrade(t.Context(), stale, tc.spec)
			bodies := f.actionBodies("1s56", "upgrade")
			if tc.wantErr != nil || tc.wantErrIn != "" {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.wantErrIn) {
					t.Fatalf("Upgrade error = %v, want %v %q", err, tc.wantErr, tc.wantErrIn)
				}
				if len(bodies) != 0 {
					t.Fatalf("a refused upgrade was POSTed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.State != StateUpgrading || got.Transitioning != TransitioningYes || got.ID != "1s56" {
				t.Errorf("202 answer parsed as %s/%s/%s, want the service upgrading", got.ID, got.State, got.Transitioning)
			}
			if len(bodies) != 1 {
				t.Fatalf("%d upgrade POSTs", len(bodies))
			}
			var body struct {
				InServiceStrategy map[string]json.RawMessage `json:"inServiceStrategy"`
			}
			if err := json.Unmarshal(bodies[0], &body); err != nil {
				t.Fatal(err)
			}
			st := body.InServiceStrategy
			for k, v := range tc.wantStrategy {
				if string(st[k]) != v {
					t.Errorf("%s = %s, want %s", k, st[k], v)
				}
			}
			for _, k := range []string{"batchSize", "intervalMillis"} {
				if _, ok := tc.wantStrategy[k]; !ok && st[k] != nil {
					t.Errorf("%s sent (%s), want it left to the server", k, st[k])
				}
			}
			for _, k := range []string{"previousLaunchConfig", "previousSecondaryLaunchConfigs"} {
				if st[k] != nil {
					t.Errorf("%s sent", k)
				}
			}
			if tc.wantPrimary == "" {
				if st["launchConfig"] != nil {
					t.Errorf("launchConfig sent for a sidekick-only upgrade")
				}
			} else {
				sameExceptImage(t, "launchConfig", orig["launchConfig"], st["launchConfig"], tc.wantPrimary)
			}
			var sent []json.RawMessage
			if st["secondaryLaunchConfigs"] != nil {
				_ = json.Unmarshal(st["secondaryLaunchConfigs"], &sent)
			}
			if len(sent) != len(tc.wantSide) {
				t.Fatalf("%d sidekicks sent, want %d", len(sent), len(tc.wantSide))
			}
			for _, s := range sent {
				var n struct{ Name string }
				_ = json.Unmarshal(s, &n)
				for _, o := range origSide {
					var on struct{ Name string }
					_ = json.Unmarshal(o, &on)
					if on.Name == n.Name {
						sameExceptImage(t, "sidekick "+n.Name, o, s, tc.wantSide[n.Name])
					}
				}
			}
		})
	}
}

func TestActions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFake(t)
	f.std("api", "upg", "gone")
	f.set("1s2", map[string]any{"state": "upgraded"}, false)
	c := f.client(t)

	// The action URL from the actions map is used (with its slash before '?').
	upg, err := c.ServiceByID(ctx, "1a5", "1s2")
	if err != nil {
		t.Fatal(err)
	}
	fin, err := c.FinishUpgrade(ctx, upg)
	if err != nil || fin.State != StateFinishingUpgrade {
		t.Fatalf("FinishUpgrade = %v, %v", fin, err)
	}
	if !slices.Contains(f.requests(), "POST /v2-beta/projects/1a5/services/1s2/?action=finishupgrade") {
		t.Errorf("requests = %v, want the URL from actions", f.requests())
	}

	// Upgrade of an upgraded service: refused locally, nothing POSTed.
	f.set("1s2", map[string]any{"state": "upgraded"}, false)
	_, err = c.Upgrade(ctx, upg, UpgradeSpec{Image: "app:2"})
	var ae *ActionError
	if !IsActionNotAvailable(err) || !errors.As(err, &ae) || ae.State != "upgraded" || ae.Action != "upgrade" {
		t.Errorf("Upgrade of upgraded: %v, want *ActionError in state upgraded", err)
	}
	if n := len(f.actionBodies("1s2", "upgrade")); n != 0 {
		t.Errorf("%d upgrade POSTs, want none", n)
	}

	// A stale copy lacking the action: re-read once, then POSTed.
	api, _ := c.ServiceByID(ctx, "1a5", "1s1")
	f.set("1s1", map[string]any{"state": "upgraded"}, false)
	gets := f.gets("1s1")
	if _, err := c.Rollback(ctx, api); err != nil {
		t.Fatalf("Rollback with a stale actions map: %v", err)
	}
	if f.gets("1s1") != gets+1 || len(f.actionBodies("1s1", "rollback")) != 1 {
		t.Errorf("want one re-read and one POST")
	}

	// A stale copy listing the action: the server's 422 is parsed.
	f.set("1s1", map[string]any{"state": "active"}, false)
	api, _ = c.ServiceByID(ctx, "1a5", "1s1")
	f.set("1s1", map[string]any{"state": "upgraded"}, false)
	err = c.Action(ctx, &api.Resource, "upgrade", map[string]any{"inServiceStrategy": map[string]any{}}, nil)
	var apiErr *APIError
	if !IsActionNotAvailable(err) || !errors.As(err, &apiErr) || apiErr.Status != 422 || apiErr.FieldName != "action" {
		t.Errorf("server 422: %v", err)
	}
	if !strings.Contains(err.Error(), "upgrade service 1s1") || !strings.Contains(err.Error(), "?action=upgrade") {
		t.Errorf("error %q should name the action, the service and the URL", err)
	}

	// Gone: 404 on the re-read.
	gone, _ := c.ServiceByID(ctx, "1a5", "1s3")
	f.mu.Lock()
	delete(f.objs, "1s3")
	f.mu.Unlock()
	if _, err := c.Activate(ctx, gone); !IsNotFound(err) {
		t.Errorf("Activate of a removed service: %v, want not found", err)
	}

	// A proxy's HTML error page.
	f.mu.Lock()
	f.failNext = []int{502}
	f.mu.Unlock()
	_, err = c.Deactivate(ctx, api)
	if !errors.As(err, &apiErr) || apiErr.Status != 502 || apiErr.Code != "Bad Gateway" || !strings.Contains(apiErr.Message, "502 Bad Gateway") {
		t.Errorf("502 HTML: %#v", err)
	}
}

// TestAPIErrorShort: a server's error body of 64 KiB (Rancher's own
// messages are a line) is kept whole in the fields, for callers that
// branch on them, but its message shows at most a few hundred bytes of
// each value; it echoed the whole body.
func TestAPIErrorShort(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 10000) // three of them fill the 64 KiB the body is read to
	rec := httptest.NewRecorder()
	rec.WriteHeader(422)
	rec.Body.WriteString(`{"type":"error","code":"InvalidState","message":"` + long + `","fieldName":"` + long + `","detail":"` + long + `"}`)
	u, _ := url.Parse("http://r/v2-beta/projects/1a5/services/1s1")
	got := parseAPIError(http.MethodPost, u, rec.Result())
	if got.Message != long {
		t.Errorf("Message clipped in the field (%d bytes)", len(got.Message))
	}
	msg := got.Error()
	if len(msg) > 2048 || !strings.Contains(msg, "InvalidState") || !strings.Contains(msg, "é...") || !utf8.ValidString(msg) {
		t.Errorf("Error() is %d bytes (valid UTF-8: %v): %.200s...", len(msg), utf8.ValidString(msg), msg)
	}
}

func TestParseAPIError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   APIError
		is     error
	}{
		{"conflict", 409, `{"type":"error","status":409,"code":"Conflict","message":"Conflict","baseType":"error"}`,
			APIError{Status: 409, Code: "Conflict", Message: "Conflict"}, ErrConflict},
		{"all null", 422, `{"type":"error","status":null,"code":null,"message":null,"detail":null,"fieldName":null}`,
			APIError{Status: 422}, nil},
		{"missing required", 422, `{"type":"error","status":422,"code":"MissingRequired","fieldName":"namespace"}`,
			APIError{Status: 422, Code: "MissingRequired", FieldName: "namespace"}, nil},
		{"detail object", 500, `{"type":"error","code":"ServerError","message":"boom","detail":{"a":1}}`,
			APIError{Status: 500, Code: "ServerError", Message: "boom", Detail: `{"a":1}`}, nil},
		{"detail string", 400, `{"code":"InvalidBodyContent","detail":"line 1"}`,
			APIError{Status: 400, Code: "InvalidBodyContent", Detail: "line 1"}, nil},
		{"forbidden", 403, `{"type":"error","status":403,"code":"Forbidden"}`, APIError{Status: 403, Code: "Forbidden"}, ErrAuth},
		{"empty", 503, ``, APIError{Status: 503, Code: "Service Unavailable"}, nil},
		{"json null", 500, `null`, APIError{Status: 500, Code: "Internal Server Error", Message: "null"}, nil},
		{"json array", 500, `[1]`, APIError{Status: 500, Code: "Internal Server Error", Message: "[1]"}, nil},
		{"html", 504, "<html>\n <h1>Gateway   Timeout</h1></html>", APIError{Status: 504, Code: "Gateway Timeout", Message: "<html> <h1>Gateway Timeout</h1></html>"}, nil},
		{"long text", 500, strings.Repeat("é", 300), APIError{Status: 500, Code: "Internal Server Error", Message: strings.Repeat("é", 100)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			rec.WriteHeader(tc.status)
			rec.Body.WriteString(tc.body)
			u, _ := url.Parse("http://r/v2-beta/projects/1a5/services/1s1")
			got := parseAPIError(http.MethodGet, u, rec.Result())
			checkAPIError(t, got, tc.want, tc.is)
			if got.Error() == "" || !strings.Contains(got.Error(), "GET http://r/v2-beta/projects/1a5/services/1s1") {
				t.Errorf("Error() = %q", got.Error())
			}
		})
	}
}
