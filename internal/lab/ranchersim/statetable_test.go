package ranchersim

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
)

// The state table of rancher-cattle-api.md, as the test reads it.
var docTable = []struct {
	action, transitional, end string
	from                      []string
}{
	{"activate", "activating", "active", []string{"inactive", "restarting"}},
	{"deactivate", "deactivating", "inactive", []string{"active", "activating", "restarting", "updating-active", "updating-inactive"}},
	{"upgrade", "upgrading", "upgraded", []string{"active", "activating", "inactive", "updating-active"}},
	{"finishupgrade", "finishing-upgrade", "active", []string{"upgraded"}},
	{"rollback", "rolling-back", "active", []string{"upgrading", "upgraded", "canceled-upgrade"}},
	{"cancelupgrade", "canceling-upgrade", "canceled-upgrade", []string{"upgrading", "finishing-upgrade"}},
	{"continueupgrade", "upgrading", "upgraded", []string{"canceled-upgrade"}},
	{"restart", "restarting", "active", []string{"active"}},
	{"remove", "removing", "removed", nil}, // nearly every state: all but removing/removed
}

var allStates = []string{"active", "inactive", "activating", "restarting", "updating-active",
	"updating-inactive", "upgrading", "upgraded", "canceled-upgrade", "finishing-upgrade",
	"canceling-upgrade", "rolling-back", "deactivating", "removing", "removed"}

func docAllows(action, state string) bool {
	for _, row := range docTable {
		if row.action != action {
			continue
		}
		if row.from == nil {
			return state != "removing" && state != "removed"
		}
		return slices.Contains(row.from, state)
	}
	return false
}

// reach brings a fresh one-unit service into state. Transitional states are held by
// gating an engine operation; it returns the release funcs.
func reach(t *testing.T, f *fixture, svc *Service, state string) []func() {
	t.Helper()
	e := f.hosts[0]
	var rel []func()
	hold := func(op string) { rel = append(rel, e.hold(op)) }
	act := func(action string, body any) {
		t.Helper()
		code, m := f.action(svc, action, body)
		if code != http.StatusAccepted {
			t.Fatalf("reach %s: %s: %d %v", state, action, code, m)
		}
	}
	upgrade := func(image string) { act("upgrade", upgradeBody(f.get(svc), image, 1, 100, false)) }
	switch state {
	case "active":
	case "inactive", "activating":
		act("deactivate", nil)
		f.waitState(svc, "inactive")
		if state == "activating" {
			hold("start")
			act("activate", nil)
		}
	case "restarting":
		hold("stop")
		act("restart", nil)
	case "updating-active":
		hold("create")
		if code, m := f.do(http.MethodPut, f.base+"/services/"+svc.ID(), map[string]any{"scale": 2}); code != http.StatusOK {
			t.Fatalf("PUT scale: %d %v", code, m)
		}
	case "updating-inactive":
		act("deactivate", nil)
		f.waitState(svc, "inactive")
		// Scaling an inactive service is instantaneous here; hold the state as a stuck
		// reconcile would.
		f.s.mu.Lock()
		svc.state, svc.transitioning = "updating-inactive", "yes"
		f.s.mu.Unlock()
	case "upgrading":
		hold("pull")
		upgrade("app:1.1")
	case "upgraded", "finishing-upgrade", "rolling-back":
		upgrade("app:1.1")
		f.waitState(svc, "upgraded")
		switch state {
		case "finishing-upgrade":
			hold("remove")
			act("finishupgrade", nil)
		case "rolling-back":
			hold("stop")
			act("rollback", nil)
		}
	case "canceled-upgrade":
		hold("pull")
		upgrade("app:1.1")
		act("cancelupgrade", nil)
		f.waitState(svc, "canceled-upgrade")
	case "canceling-upgrade":
		hold("create")
		upgrade("app:1.0") // present: the process blocks in CreateContainer
		waitFor(t, func() bool { return e.blockedAt("create") > 0 })
		act("cancelupgrade", nil)
	case "deactivating":
		hold("stop")
		act("deactivate", nil)
	case "removing":
		hold("stop")
		act("remove", nil)
	case "removed":
		act("remove", nil)
		f.waitState(svc, "removed")
	default:
		t.Fatalf("no way to reach %s", state)
	}
	if got := svc.State(); got != state {
		t.Fatalf("reached %s, want %s", got, state)
	}
	return rel
}

func readFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../../testdata/rancher", name))
	if err != nil {
		t.Fatalf("fixture %s (expected in testdata/rancher): %v", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sameErrorBody compares an error body with a captured one field by field (the random
// id excepted): same key set, same values.
func sameErrorBody(t *testing.T, got, want map[string]any) {
	t.Helper()
	if keys(got) != keys(want) {
		t.Errorf("error keys %s, want %s", keys(got), keys(want))
	}
	for k, w := range want {
		if k == "id" {
			if s, _ := got[k].(string); s == "" {
				t.Errorf("error id %v, want a non-empty string", got[k])
			}
			continue
		}
		gj, _ := json.Marshal(got[k])
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("error %s = %s, want %s", k, gj, wj)
		}
	}
}

func keys(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	b, _ := json.Marshal(ks)
	return string(b)
}

func TestStateTable(t *testing.T) {
	t.Parallel()
	notAvailable := readFixture(t, "error-422-action-not-available.json")
	for _, row := range docTable {
		for _, from := range allStates {
			t.Run(row.action+"/from-"+from, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, 1)
				svc := f.service("st", "svc", "app:1.0", 1)
				rel := reach(t, f, svc, from)
				defer func() {
					for _, r := range rel {
						r()
					}
				}()
				acts, _ := f.get(svc)["actions"].(map[string]any)
				if _, listed := acts[row.action]; listed != docAllows(row.action, from) {
					t.Errorf("actions map lists %s in %s: %v, table says %v", row.action, from, listed, docAllows(row.action, from))
				}
				var body any
				if row.action == "upgrade" {
					body = upgradeBody(f.get(svc), "app:1.1", 1, 100, false)
				}
				code, res := f.action(svc, row.action, body)
				if !docAllows(row.action, from) {
					if code != http.StatusUnprocessableEntity {
						t.Fatalf("%s from %s: %d %v, want 422", row.action, from, code, res)
					}
					sameErrorBody(t, res, notAvailable)
					return
				}
				if code != http.StatusAccepted {
					t.Fatalf("%s from %s: %d %v, want 202", row.action, from, code, res)
				}
				if res["state"] != row.transitional || res["transitioning"] != "yes" {
					t.Errorf("202 body state %v transitioning %v, want %s yes", res["state"], res["transitioning"], row.transitional)
				}
				if res["type"] != "service" || res["id"] != svc.ID() {
					t.Errorf("202 body is not the service: %v %v", res["type"], res["id"])
				}
				for _, r := range rel {
					r()
				}
				f.waitState(svc, row.end)
			})
		}
	}
}

// The actions map of every state holds exactly the table's actions (plus the service
// link actions and update, which Cattle offers too).
func TestActionsMapPerState(t *testing.T) {
	t.Parallel()
	for _, from := range allStates {
		t.Run(from, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 1)
			svc := f.service("st", "svc", "app:1.0", 1)
			rel := reach(t, f, svc, from)
			defer func() {
				for _, r := range rel {
					r()
				}
			}()
			res := f.get(svc)
			acts := res["actions"].(map[string]any)
			self := res["links"].(map[string]any)["self"].(string)
			for _, row := range docTable {
				if _, ok := acts[row.action]; ok != docAllows(row.action, from) {
					t.Errorf("%s: action %s listed=%v", from, row.action, ok)
				}
			}
			for name, u := range acts {
				if u != self+"/?action="+name {
					t.Errorf("action %s URL %v, want %s/?action=%s", name, u, self, name)
				}
				if !slices.Contains(serviceActionNames, name) {
					t.Errorf("unknown action %s listed", name)
				}
			}
			if res["transitioning"] == "no" && isTransitional(from) {
				t.Errorf("%s with transitioning no", from)
			}
		})
	}
}

func isTransitional(state string) bool {
	for _, row := range docTable {
		if row.transitional == state {
			return true
		}
	}
	return state == "updating-active" || state == "updating-inactive"
}
