package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/rancher"
)

const rollbackReason = "rollback image (kept; --include-rollback-image removes it)"

// TestPruneKeepsRancherRollbackImage: prewarm prune against the lab's
// Rancher over HTTP. Every image on the simulated host has one Created
// (as reproducible builds do), so only what was deployed can tell 1.0
// (the service's previous launch config after its upgrade to 1.1) from
// 1.2 (deployed nowhere). 1.0 is kept, with the reason, and removed only
// with --include-rollback-image; while the upgrade is unfinished, the
// stopped 1.0 container (what a Rancher rollback restarts) keeps it even
// with the flag. With --journal, an image the journal records as a
// service's previous one is kept as well.
func TestPruneKeepsRancherRollbackImage(t *testing.T) {
	l := labtest.New(t, lab.Config{HostsPerEnv: 1, Services: 1, HealthDelay: time.Millisecond,
		Images: []string{"app:1.0", "app:1.1", "app:1.2", "app:1.3"}, SeedRegions: true, ImageSize: 16 << 10, Layers: 1})
	for _, kv := range l.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	if err := l.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	e := l.Envs()[0]
	host := l.DockerHost(e.Hosts[0].Name)
	ref := func(tag string) string { return l.Region(e.Region).Addr() + "/app:" + tag }
	for _, tag := range []string{"1.1", "1.2", "1.3"} {
		if err := host.Preload(t.Context(), ref(tag)); err != nil {
			t.Fatal(err)
		}
	}

	// Upgrade web/svc01 from 1.0 to 1.1 through the Rancher API.
	c, project, err := rancher.Connect(l.Inventory(), e.Name, l.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := c.Project(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	svcs, err := c.Services(t.Context(), p.ID)
	if err != nil || len(svcs) != 1 {
		t.Fatalf("services: %v, %v", svcs, err)
	}
	svc, err := c.Upgrade(t.Context(), &svcs[0], rancher.UpgradeSpec{Image: ref("1.1"), IntervalMillis: 100})
	if err != nil {
		t.Fatal(err)
	}
	if svc, err = c.WaitState(t.Context(), svc, "upgraded"); err != nil {
		t.Fatal(err)
	}

	prune := func(args ...string) (removed, kept map[string]string) {
		t.Helper()
		var out, errb bytes.Buffer
		args = append([]string{"prune", "-c", inv, "--repo", "app", "--keep", "0", "--json"}, args...)
		if code := cli.Main(t.Context(), "prewarm", commands(), args, &out, &errb); code != cli.ExitOK {
			t.Fatalf("prewarm %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
		}
		var reps []fleet.PruneReport
		if err := json.Unmarshal(out.Bytes(), &reps); err != nil || len(reps) != 1 {
			t.Fatalf("prewarm %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		removed, kept = map[string]string{}, map[string]string{}
		for _, im := range reps[0].Removed {
			removed[im.Refs[0]] = ""
		}
		for _, im := range append(reps[0].Kept, reps[0].Removed...) {
			if !im.Created.Equal(reps[0].Kept[0].Created) {
				t.Errorf("%v created %v: want one Created for every image (reproducible builds)", im.Refs, im.Created)
			}
		}
		for _, im := range reps[0].Kept {
			kept[im.Refs[0]] = im.Reason
		}
		return removed, kept
	}
	has := func(m map[string]string, tags ...string) bool {
		for _, tag := range tags {
			if _, ok := m[ref(tag)]; !ok {
				return false
			}
		}
		return len(m) == len(tags)
	}

	// Upgraded, not finished: the 1.0 container is stopped, not gone.
	removed, kept := prune("--dry-run", "--include-rollback-image")
	if !has(removed, "1.2", "1.3") || !strings.HasPrefix(kept[ref("1.0")], "in use by container") {
		t.Errorf("upgraded, --include-rollback-image: removes %v, keeps %v; want 1.2 and 1.3 removed, 1.0 in use by its stopped container", removed, kept)
	}

	if svc, err = c.FinishUpgrade(t.Context(), svc); err != nil {
		t.Fatal(err)
	}
	if _, err = c.WaitState(t.Context(), svc, "active"); err != nil {
		t.Fatal(err)
	}
	if removed, kept = prune("--dry-run"); !has(removed, "1.2", "1.3") || kept[ref("1.0")] != rollbackReason || !has(kept, "1.0", "1.1") {
		t.Errorf("finished: removes %v, keeps %v; want 1.2 and 1.3 removed, 1.0 kept as %q", removed, kept, rollbackReason)
	}

	// The journal says an earlier run took the service from 1.2: a rollback
	// image too.
	journal := filepath.Join(dir, "rollout.jsonl")
	write(t, journal, fmt.Sprintf(`{"time":"2025-01-01T00:00:00Z","run":"r1","env":%q,"service":"web/svc01","action":"finished","from":%q,"to":%q}`+"\n", e.Name, ref("1.2"), ref("1.1")))
	if removed, kept = prune("--dry-run", "--journal", journal); !has(removed, "1.3") || kept[ref("1.2")] != rollbackReason || kept[ref("1.0")] != rollbackReason {
		t.Errorf("--journal: removes %v, keeps %v; want 1.3 removed, 1.0 and 1.2 kept as rollback images", removed, kept)
	}

	if removed, kept = prune("--include-rollback-image"); !has(removed, "1.0", "1.2", "1.3") || !has(kept, "1.1") {
		t.Errorf("--include-rollback-image: removes %v, keeps %v; want 1.0, 1.2 and 1.3 removed", removed, kept)
	}
	// They are gone from the host: another prune sees 1.1 alone.
	if removed, kept = prune("--dry-run", "--include-rollback-image"); len(removed) != 0 || !has(kept, "1.1") {
		t.Errorf("after prune: the host still has %v and %v, want 1.1 alone", removed, kept)
	}
}

// TestPruneBadJournal: a journal that is not one is a usage error (exit 2)
// naming the file and line, before any host is touched.
func TestPruneBadJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	write(t, inv, "version: 1\nregistries:\n  source: {address: \"127.0.0.1:1\", insecure: true}\n  regions:\n    r1: {address: \"127.0.0.1:1\", insecure: true}\n"+
		"environments:\n  - name: test\n    region: r1\n    hosts:\n      - {name: h1, docker: \"tcp://127.0.0.1:1\"}\n")
	journal := filepath.Join(dir, "rollout.jsonl")
	write(t, journal, "{\"run\":\"r1\",\"action\":\"run-start\"}\nnot json\n{\"run\":\"r1\",\"action\":\"run-end\"}\n")
	for _, tc := range []struct{ name, path, want string }{
		{name: "corrupt", path: journal, want: journal + " line 2"},
		{name: "missing", path: filepath.Join(dir, "none.jsonl"), want: "none.jsonl"},
	} {
		code, out, errs := runPrewarm(t, "prune", "-c", inv, "--repo", "app", "--journal", tc.path)
		if code != cli.ExitUsage || !strings.Contains(errs, "--journal") || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d (want %d), stderr naming --journal and %q:\n%s%s", tc.name, code, cli.ExitUsage, tc.want, out, errs)
		}
	}
}
