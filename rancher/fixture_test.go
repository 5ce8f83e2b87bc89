package rancher

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fixtureDir holds real captured Rancher payloads (testdata/rancher, with
// their sources in SOURCES.md). Missing fixtures fail the tests.
const fixtureDir = "../testdata/rancher"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("fixture %s (expected in testdata/rancher): %v", name, err)
	}
	return b
}

func decodeFixture[T any](t *testing.T, name string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(readFixture(t, name), &v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return v
}

// fixtureTests covers every fixture file; TestFixturesAllCovered checks that.
var fixtureTests = map[string]func(t *testing.T, name string){
	"service-active-v2beta.json": func(t *testing.T, name string) {
		s := decodeFixture[Service](t, name)
		checkFrontend(t, &s)
	},
	"collection-services-v2beta.json": func(t *testing.T, name string) {
		col := decodeFixture[collection[Service]](t, name)
		if col.Type != "collection" || col.ResourceType != "service" || len(col.Data) != 1 {
			t.Fatalf("envelope: type %q resourceType %q %d items", col.Type, col.ResourceType, len(col.Data))
		}
		if col.Pagination == nil || col.Pagination.Partial || col.Pagination.Next != "" || col.Pagination.Limit != 100 {
			t.Errorf("pagination = %+v, want limit 100, not partial, no next", col.Pagination)
		}
		checkFrontend(t, &col.Data[0])
		one := decodeFixture[Service](t, "service-active-v2beta.json")
		a, _ := json.Marshal(one)
		b, _ := json.Marshal(col.Data[0])
		if !bytes.Equal(a, b) {
			t.Errorf("data[0] differs from service-active-v2beta.json:\n%s\n%s", a, b)
		}
	},
	"collection-stacks-v2beta-name-filter.json": func(t *testing.T, name string) {
		col := decodeFixture[collection[Stack]](t, name)
		if len(col.Data) != 1 || col.Data[0].ID != "1st20" || col.Data[0].Type != "stack" {
			t.Fatalf("data = %+v", col.Data)
		}
		if col.Pagination == nil || col.Pagination.Next != "" {
			t.Errorf("pagination = %+v", col.Pagination)
		}
		if got := col.Data[0].ServiceIDs; !slices.Equal(got, []string{"1s7638"}) {
			t.Errorf("serviceIds = %v", got)
		}
	},
	"stack-v2beta.json": func(t *testing.T, name string) {
		s := decodeFixture[Stack](t, name)
		want := Stack{Resource: Resource{ID: "1st20", Type: "stack", BaseType: "stack", Name: "teststack", State: "active",
			AccountID: "1a10", UUID: "2058feff-4aa1-4145-98c1-6c21690e28c8", Created: "2020-01-08T21:00:58Z", Transitioning: "no"},
			Kind: "stack", HealthState: "healthy", ServiceIDs: []string{"1s7638"}}
		s.AccountID = ""
		if projectOf(&s.Resource) != "1a10" {
			t.Error("projectOf(stack) without accountId != 1a10 (from links.self)")
		}
		s.Links, s.Actions, s.AccountID = nil, nil, "1a10"
		if !reflect.DeepEqual(s, want) {
			t.Errorf("stack =\n%+v\nwant\n%+v", s, want)
		}
	},
	"collection-services-v1-paginated.json": func(t *testing.T, name string) {
		col := decodeFixture[collection[Service]](t, name)
		ids := []string{}
		for _, s := range col.Data {
			ids = append(ids, s.ID+"="+s.Image()+"/"+s.State)
		}
		want := []string{"1s1=mysql/inactive", "1s2=opensaas/concrete5/inactive", "1s3=ghost/active", "1s6=ubuntu:trusty/active"}
		if !slices.Equal(ids, want) {
			t.Errorf("services = %v, want %v", ids, want)
		}
		p := col.Pagination
		if p == nil || !p.Partial || p.Limit != 4 || !strings.Contains(p.Next, "marker=m4") {
			t.Fatalf("pagination = %+v, want partial, limit 4, next with marker=m4", p)
		}
		c, err := New("https://rancher.example.com/v1", "", "")
		if err != nil {
			t.Fatal(err)
		}
		next, err := c.resolve(p.Next)
		if err != nil || next != "https://rancher.example.com/v1/services?limit=4&marker=m4" {
			t.Errorf("resolve(next) = %q, %v: want it on the base URL's scheme and host", next, err)
		}
	},
	"service-active-after-upgrade-v1.json": func(t *testing.T, name string) {
		s := decodeFixture[Service](t, name)
		col := decodeFixture[collection[Service]](t, "collection-services-v1-paginated.json")
		a, _ := json.Marshal(s)
		b, _ := json.Marshal(col.Data[3])
		if !jsonEqual(t, a, b) { // raw values keep each file's own whitespace
			t.Errorf("decoded differently from data[3] of the v1 list:\n%s\n%s", a, b)
		}
		if s.ID != "1s6" || s.State != "active" || s.Transitioning != "no" || s.Image() != "ubuntu:trusty" {
			t.Errorf("service = %s %s %s %s", s.ID, s.State, s.Transitioning, s.Image())
		}
	},
	"error-422-action-not-available.json": func(t *testing.T, name string) {
		e := errorFromFixture(t, name, 422)
		want := APIError{Status: 422, Code: "ActionNotAvailable", FieldName: "action"}
		checkAPIError(t, e, want, ErrActionNotAvailable)
		if IsNotFound(e) || IsConflict(e) {
			t.Error("422 matched another sentinel")
		}
	},
	"error-422-invalid-option.json": func(t *testing.T, name string) {
		e := errorFromFixture(t, name, 422)
		want := APIError{Status: 422, Code: "InvalidOption", FieldName: "StartFirst option can't be used for service with retainIp field set"}
		checkAPIError(t, e, want, nil)
		if !strings.Contains(e.Error(), "StartFirst option can't be used") {
			t.Errorf("Error() = %q lacks the text from fieldName", e.Error())
		}
		if IsActionNotAvailable(e) {
			t.Error("InvalidOption matched ErrActionNotAvailable")
		}
	},
	"error-404-not-found.json": func(t *testing.T, name string) {
		e := errorFromFixture(t, name, 404)
		checkAPIError(t, e, APIError{Status: 404, Code: "Not Found", Message: "Not Found"}, ErrNotFound)
	},
	"event-resource-change-nodata.json": func(t *testing.T, name string) {
		ev := decodeFixture[Event](t, name)
		want := Event{ID: "a0513a91-0c18-4bd3-93df-d05daf4a0fc3", Name: "resource.change", ResourceType: "docker", ResourceID: "1d3", Time: 1458323656472}
		if !reflect.DeepEqual(ev, want) {
			t.Errorf("event = %+v, want %+v", ev, want)
		}
	},
	"host-disconnected-fragment.json": func(t *testing.T, name string) {
		h := decodeFixture[Host](t, name)
		if h.State != "disconnected" || h.AgentState != "disconnected" || h.AgentIPAddress != "10.0.0.5" || h.BaseType != "host" || h.Active() {
			t.Errorf("host = %+v", h)
		}
		if _, ok := h.Actions["evacuate"]; !ok {
			t.Errorf("actions = %v", h.Actions)
		}
	},
	"schemas-v2beta-subset.json": func(t *testing.T, name string) {
		checkSchemas(t, decodeFixture[collection[schema]](t, name))
	},
	"project-v1.json": func(t *testing.T, name string) {
		p := decodeFixture[Project](t, name)
		if p.ID != "1a5" || p.Name != "Production" || p.State != "active" || p.UUID != "adminProject" || p.Description != "" {
			t.Errorf("project = %+v", p)
		}
	},
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	for name, fn := range fixtureTests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, name)
		})
	}
}

func TestFixturesAllCovered(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s (expected beside the checkout): %v", fixtureDir, err)
	}
	for _, f := range files {
		if fixtureTests[filepath.Base(f)] == nil {
			t.Errorf("fixture %s is not decoded by any test", filepath.Base(f))
		}
	}
}

func checkFrontend(t *testing.T, s *Service) {
	t.Helper()
	got := []any{s.ID, s.Name, s.Type, s.BaseType, s.State, s.AccountID, s.StackID, s.Kind, s.HealthState,
		s.Transitioning, s.TransitioningMessage, s.TransitioningProgress, s.Scale, s.CurrentScale, s.InstanceIDs}
	want := []any{"1s56", "frontend", "service", "service", "active", "1a10", "1st3107", "service", "healthy",
		"no", "", 0, 1, 1, []string{"1i234"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("service fields = %v\nwant %v", got, want)
	}
	if s.Image() != "nexus.example.com/frontend:v1.2.3_1" || s.LaunchConfig.ImageUUID() != "docker:nexus.example.com/frontend:v1.2.3_1" {
		t.Errorf("image = %q", s.Image())
	}
	if s.LaunchConfig.Labels()["com.example.service"] != "frontend" {
		t.Errorf("labels = %v", s.LaunchConfig.Labels())
	}
	if s.SecondaryLaunchConfigs == nil || len(s.SecondaryLaunchConfigs) != 0 {
		t.Errorf("secondaryLaunchConfigs = %v, want empty", s.SecondaryLaunchConfigs)
	}
	for _, a := range []string{"upgrade", "restart", "deactivate"} {
		if !strings.HasSuffix(s.Actions[a], "/v2-beta/projects/1a10/services/1s56/?action="+a) {
			t.Errorf("actions[%s] = %q", a, s.Actions[a])
		}
	}
	if _, ok := s.Actions["finishupgrade"]; ok {
		t.Error("an active service lists finishupgrade")
	}
	if !strings.HasSuffix(s.Links["instances"], "/services/1s56/instances") {
		t.Errorf("links.instances = %q", s.Links["instances"])
	}
	u := s.Upgrade
	if u == nil || u.InServiceStrategy == nil {
		t.Fatalf("upgrade = %+v", u)
	}
	is := u.InServiceStrategy
	if is.BatchSize != 2 || is.IntervalMillis != 1000 || !is.StartFirst {
		t.Errorf("inServiceStrategy = %d %d %v", is.BatchSize, is.IntervalMillis, is.StartFirst)
	}
	if is.PreviousLaunchConfig.Image() != "nexus.example.com/frontend:v3.9.84.2_1" || is.LaunchConfig.Image() != s.Image() {
		t.Errorf("previous image %q, upgrade image %q", is.PreviousLaunchConfig.Image(), is.LaunchConfig.Image())
	}
	if string(u.ToServiceStrategy) != "null" {
		t.Errorf("toServiceStrategy = %s", u.ToServiceStrategy)
	}
	// The launch config round-trips: same keys, same order, same values.
	raw := readFixture(t, "service-active-v2beta.json")
	var whole map[string]json.RawMessage
	if err := json.Unmarshal(raw, &whole); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(s.LaunchConfig)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, out, whole["launchConfig"]) {
		t.Errorf("launchConfig does not round-trip:\n%s", out)
	}
	if keys := s.LaunchConfig.Keys(); keys[0] != "type" || keys[len(keys)-1] != "drainTimeoutMs" || len(keys) != 23 {
		t.Errorf("keys = %v", keys)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v in %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

func errorFromFixture(t *testing.T, name string, status int) *APIError {
	t.Helper()
	rec := httptest.NewRecorder()
	rec.WriteHeader(status)
	rec.Body.Write(readFixture(t, name))
	u, _ := url.Parse("https://rancher.example.com/v2-beta/projects/1a5/services/1s1/?action=upgrade")
	return parseAPIError(http.MethodPost, u, rec.Result())
}

func checkAPIError(t *testing.T, got *APIError, want APIError, sentinel error) {
	t.Helper()
	want.Method, want.URL = got.Method, got.URL
	if *got != want {
		t.Errorf("APIError = %+v\nwant %+v", *got, want)
	}
	if sentinel != nil && !errors.Is(got, sentinel) {
		t.Errorf("errors.Is(%v, %v) = false", got, sentinel)
	}
}

type schema struct {
	ID              string                     `json:"id"`
	ResourceFields  map[string]json.RawMessage `json:"resourceFields"`
	ResourceActions map[string]json.RawMessage `json:"resourceActions"`
}

// checkSchemas checks that every field this package decodes is named as the
// real server names it, and that the actions it calls exist.
func checkSchemas(t *testing.T, col collection[schema]) {
	t.Helper()
	byID := map[string]schema{}
	for _, s := range col.Data {
		byID[s.ID] = s
	}
	common := []string{"id", "type", "baseType", "links", "actions"}
	for _, tc := range []struct {
		schema string
		typ    any
		skip   []string // fields newer than this 1.3/1.4 capture, or from other resources
	}{
		{"service", Service{}, nil},
		{"host", Host{}, nil},
		{"stack", Stack{}, nil},
		{"project", Project{}, []string{"accountId"}},
		{"inServiceUpgradeStrategy", InServiceStrategy{}, nil},
		{"serviceUpgrade", ServiceUpgrade{}, nil},
	} {
		s, ok := byID[tc.schema]
		if !ok {
			t.Errorf("schema %s missing", tc.schema)
			continue
		}
		for _, f := range jsonFields(reflect.TypeOf(tc.typ)) {
			if slices.Contains(common, f) || slices.Contains(tc.skip, f) {
				continue
			}
			if _, ok := s.ResourceFields[f]; !ok {
				t.Errorf("%s: field %q not in the server's schema", tc.schema, f)
			}
		}
	}
	for _, a := range []string{"upgrade", "finishupgrade", "rollback", "cancelupgrade", "continueupgrade", "activate", "deactivate", "restart"} {
		if _, ok := byID["service"].ResourceActions[a]; !ok {
			t.Errorf("service action %s not in the schema", a)
		}
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
