package fleet

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestJournalDeployed: what each service's last journal entry leaves it
// running, and what a rollback would restart.
func TestJournalDeployed(t *testing.T) {
	t.Parallel()
	lines := []string{
		`{"run":"r1","action":"run-start"}`,
		// web/a: finished 1.0 -> 1.1 in r1, then 1.1 -> 1.2 in r2.
		`{"run":"r1","env":"dev","service":"web/a","action":"upgrade","from":"reg/app:1.0","to":"reg/app:1.1"}`,
		`{"run":"r1","env":"dev","service":"web/a","action":"finished","from":"reg/app:1.0","to":"reg/app:1.1"}`,
		`{"run":"r2","env":"dev","service":"web/a","action":"finished","from":"reg/app:1.1","to":"reg/app:1.2"}`,
		// r3 skipped it: no change, the previous image is still 1.1.
		`{"run":"r3","env":"dev","service":"web/a","action":"skip","from":"reg/app:1.2","to":"reg/app:1.2"}`,
		// web/b: rolled back from 2.1 to 2.0, which it runs again.
		`{"run":"r1","env":"dev","service":"web/b","action":"upgrade","from":"reg/b:2.0","to":"reg/b:2.1"}`,
		`{"run":"r1","env":"dev","service":"web/b","action":"rolled-back","from":"reg/b:2.0","to":"reg/b:2.1"}`,
		// qa: failed mid-upgrade: what it runs is unknown, 3.0 is what a
		// rollback restarts.
		`{"run":"r1","env":"qa","service":"web/a","action":"failed","from":"reg/app:3.0","to":"reg/app:3.1","error":"boom"}`,
	}
	path := filepath.Join(t.TempDir(), "rollout.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := JournalDeployed(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*Deployed{
		"dev": {Current: []string{"reg/app:1.2", "reg/b:2.0"}, Previous: []string{"reg/app:1.1", "reg/b:2.0"}},
		"qa":  {Previous: []string{"reg/app:3.0"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JournalDeployed:\n got %+v %+v\nwant %+v %+v", got["dev"], got["qa"], want["dev"], want["qa"])
	}

	// Rancher's view ranks first; the journal's adds what Rancher lacks.
	merged := MergeDeployed(map[string]*Deployed{"dev": {Current: []string{"reg/app:1.2"}, Previous: []string{"reg/app:0.9"}}}, got)
	if d := merged["dev"]; !reflect.DeepEqual(d, &Deployed{Current: []string{"reg/app:1.2", "reg/b:2.0"}, Previous: []string{"reg/app:0.9", "reg/app:1.1", "reg/b:2.0"}}) {
		t.Errorf("MergeDeployed: dev %+v", d)
	}
	if _, err := JournalDeployed(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing journal is no error: prune would forget its rollback images")
	}
}
