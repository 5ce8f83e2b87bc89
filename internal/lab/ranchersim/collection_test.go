package ranchersim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func ids(t *testing.T, coll map[string]any) []string {
	t.Helper()
	var out []string
	for _, d := range coll["data"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

func TestPagination250Services(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	var want []string
	for i := range 250 {
		svc, err := f.p.AddService(fmt.Sprintf("s%d", i%3), fmt.Sprintf("svc%03d", i), "app:1.0", 0)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, svc.ID())
	}
	// Follow pagination.next from the default page size.
	var got []string
	next := f.base + "/services"
	pages := 0
	for next != "" {
		code, coll := f.do(http.MethodGet, next, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", next, code)
		}
		pages++
		got = append(got, ids(t, coll)...)
		pg := coll["pagination"].(map[string]any)
		if pg["limit"] != float64(100) {
			t.Errorf("limit %v", pg["limit"])
		}
		n, _ := pg["next"].(string)
		if (n != "") != pg["partial"].(bool) {
			t.Errorf("partial %v with next %q", pg["partial"], n)
		}
		if n != "" && !strings.Contains(n, fmt.Sprintf("marker=m%d", len(got))) {
			t.Errorf("next %q lacks marker=m%d", n, len(got))
		}
		next = n
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages, %d ids; want 3 pages and all 250 in id order", pages, len(got))
	}
	tests := []struct {
		query   string
		n       int
		partial bool
		limit   float64
	}{
		{"limit=0", 250, false, 3000},
		{"limit=-5", 250, false, 3000},
		{"limit=5000", 250, false, 3000},
		{"limit=3000", 250, false, 3000},
		{"limit=40&marker=m200", 40, true, 40},
		{"limit=100&marker=m200", 50, false, 100},
		{"marker=m999", 0, false, 100},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			code, coll := f.do(http.MethodGet, f.base+"/services?"+tc.query, nil)
			if code != http.StatusOK {
				t.Fatal(code)
			}
			pg := coll["pagination"].(map[string]any)
			if n := len(coll["data"].([]any)); n != tc.n || pg["partial"] != tc.partial || pg["limit"] != tc.limit {
				t.Errorf("%d items partial %v limit %v; want %d %v %v", n, pg["partial"], pg["limit"], tc.n, tc.partial, tc.limit)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	web := f.service("web", "frontend", "app:1.0", 1)
	f.service("web", "backend", "app:1.0", 0)
	api := f.service("api", "frontend", "app:1.0", 0)
	gone := f.service("api", "old-thing", "app:1.0", 0)
	f.action(gone, "remove", nil)
	f.waitState(gone, "removed")
	tests := []struct {
		query string
		want  []string
	}{
		{"name=frontend", []string{web.ID(), api.ID()}},
		{"name=frontend&stackId=" + api.StackID(), []string{api.ID()}},
		{"stackId=" + web.StackID() + "&name=frontend&removed_null", []string{web.ID()}},
		{"removed_null=1", []string{"1s1", "1s2", "1s3"}},
		{"removed_notnull", []string{gone.ID()}},
		{"name_ne=frontend&removed_null", []string{"1s2"}},
		{"name_prefix=front", []string{web.ID(), api.ID()}},
		{"name_like=%25end", []string{web.ID(), "1s2", api.ID()}},
		{"name_notlike=%25end", []string{gone.ID()}},
		{"name=backend&name=old-thing", []string{"1s2", gone.ID()}},
		{"createIndex_gt=2", []string{api.ID(), gone.ID()}},
		{"createIndex_lte=2", []string{web.ID(), "1s2"}},
		{"state=removed", []string{gone.ID()}},
		{"state_ne=removed", []string{web.ID(), "1s2", api.ID()}},
		{"unknownField=x", []string{web.ID(), "1s2", api.ID(), gone.ID()}},
		{"name=nothing", nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			code, coll := f.do(http.MethodGet, f.base+"/services?"+tc.query, nil)
			if code != http.StatusOK {
				t.Fatal(code)
			}
			if got := ids(t, coll); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			q, _ := url.ParseQuery(tc.query)
			filters := coll["filters"].(map[string]any)
			for k := range q {
				field, mod, ok := strings.Cut(k, "_")
				if !ok {
					mod = "eq"
				}
				if field == "unknownField" {
					if _, listed := filters[field]; listed {
						t.Errorf("unknown field listed in filters")
					}
					continue
				}
				list, _ := filters[field].([]any)
				if len(list) == 0 || list[0].(map[string]any)["modifier"] != mod {
					t.Errorf("filters.%s = %v, want modifier %s", field, filters[field], mod)
				}
			}
		})
	}
	// Sorting and the name filter on projects and hosts.
	code, coll := f.do(http.MethodGet, f.base+"/services?sort=name&order=desc&removed_null", nil)
	if code != http.StatusOK {
		t.Fatal(code)
	}
	if got := ids(t, coll); strings.Join(got, ",") != strings.Join([]string{web.ID(), api.ID(), "1s2"}, ",") {
		t.Errorf("sort=name desc: %v", got)
	}
	if s := coll["sort"].(map[string]any); s["name"] != "name" || s["order"] != "desc" {
		t.Errorf("sort %v", s)
	}
	code, coll = f.do(http.MethodGet, f.s.URL()+"/v2-beta/projects?name=dev&removed_null=1&all=true", nil)
	if code != http.StatusOK || len(coll["data"].([]any)) != 1 {
		t.Fatalf("projects by name: %d %v", code, coll)
	}
}

func TestLinksAndSubcollections(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	svc := f.service("web", "app", "app:1.0", 3, WithSidekick("log", "app:1.0"))
	res := f.get(svc)
	lk := res["links"].(map[string]any)
	code, inst := f.do(http.MethodGet, lk["instances"].(string), nil)
	if code != http.StatusOK {
		t.Fatal(code)
	}
	data := inst["data"].([]any)
	if len(data) != 6 || inst["resourceType"] != "instance" {
		t.Fatalf("instances: %d %v", len(data), inst["resourceType"])
	}
	// Sidekicks run on their primary's host.
	hostOf := map[string]string{}
	for _, d := range data {
		c := d.(map[string]any)
		unit := c["deploymentUnitUuid"].(string)
		if h, ok := hostOf[unit]; ok && h != c["hostId"] {
			t.Errorf("deployment unit %s split across hosts", unit)
		}
		hostOf[unit] = c["hostId"].(string)
		if c["state"] != "running" || c["imageUuid"] != "docker:app:1.0" || c["type"] != "container" {
			t.Errorf("container %v", c)
		}
	}
	code, st := f.do(http.MethodGet, lk["stack"].(string), nil)
	if code != http.StatusOK || st["id"] != svc.StackID() {
		t.Errorf("stack link: %d %v", code, st["id"])
	}
	code, hosts := f.do(http.MethodGet, f.base+"/hosts", nil)
	if code != http.StatusOK || len(hosts["data"].([]any)) != 2 {
		t.Fatalf("hosts %d", code)
	}
	total := 0
	for _, h := range hosts["data"].([]any) {
		total += len(h.(map[string]any)["instanceIds"].([]any))
	}
	if total != 6 {
		t.Errorf("hosts hold %d instances, want 6", total)
	}
	if n := len(res["instanceIds"].([]any)); n != 6 {
		t.Errorf("instanceIds %d", n)
	}
	if code, c := f.do(http.MethodGet, f.base+"/containers?hostId="+hostOf[data[0].(map[string]any)["deploymentUnitUuid"].(string)], nil); code != http.StatusOK || len(c["data"].([]any)) == 0 {
		t.Errorf("containers by hostId: %d", code)
	}
}

func TestAffinityScheduling(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3) // hosts carry zone=a, b, c
	svc := f.service("web", "app", "app:1.0", 4, WithLabels(map[string]string{LabelHostAffinity: "zone=b"}))
	code, inst := f.do(http.MethodGet, f.base+"/services/"+svc.ID()+"/instances", nil)
	if code != http.StatusOK {
		t.Fatal(code)
	}
	for _, d := range inst["data"].([]any) {
		if h := d.(map[string]any)["hostId"]; h != "1h2" {
			t.Errorf("container on %v, want only 1h2 (zone=b)", h)
		}
	}
	if f.hosts[0].count("running") != 0 || f.hosts[1].count("running") != 4 {
		t.Errorf("engine containers: %d on zone a, %d on zone b", f.hosts[0].count("running"), f.hosts[1].count("running"))
	}
	// No host matches: activation errors and is retried.
	bad, err := f.p.AddService("web", "nowhere", "app:1.0", 1, WithLabels(map[string]string{LabelHostAffinity: "zone=z"}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st := bad.Status()
		return st.Transitioning == "error" && strings.Contains(st.TransitioningMessage, "Allocation failed")
	})
	if st := bad.Status(); st.State != "activating" {
		t.Errorf("state %s", st.State)
	}
}
