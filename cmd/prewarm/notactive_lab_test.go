package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestLabNotActiveHostNotReady: in an environment reached through Rancher
// (discover: {docker: rancher}), a host whose agent is down was left out
// without a word: pull and status said "1 hosts, 0 not ready" and exited 0.
// Every host command now counts it like an unreachable host: a FAILED row or
// unreachable cells naming why, exit 1 naming it, and the nightly run's
// report names it. Not parallel: t.Setenv (the lab's Rancher keys).
func TestLabNotActiveHostNotReady(t *testing.T) {
	l := labtest.New(t, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 2, ViaRancher: []string{"dev"}, ImageSize: 64 << 10, Layers: 1, Images: []string{"app:1.0"}})
	for _, kv := range l.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	const down = "dev-02"
	if err := l.Rancher.DisconnectAgent(down, true); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inv, rel, report := filepath.Join(dir, "hosts.yaml"), filepath.Join(dir, "release.yaml"), filepath.Join(dir, "report.json")
	if err := l.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	write(t, rel, fmt.Sprintf("version: 1\nimages:\n  - name: app\n    ref: %s/app:1.0\n", l.Inventory().Registries.Source.Address))
	why := "Rancher says agent reconnecting"
	notReady := "1 of 2 hosts not ready: " + down

	code, stdout, stderr := run(t, "run", "-c", inv, "-f", rel, "--report", report)
	if code != cli.ExitFailed || !strings.Contains(stderr, notReady) || !strings.Contains(stdout, "2 hosts, 1 not ready") || !strings.Contains(stdout, why) {
		t.Errorf("run: exit %d, want 1 naming %s and why\nstdout:\n%s\nstderr:\n%s", code, down, stdout, stderr)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rr struct{ NotReady []string }
	if err := json.Unmarshal(b, &rr); err != nil || len(rr.NotReady) != 1 || rr.NotReady[0] != down {
		t.Errorf("run report: notReady %v (%v), want [%s]", rr.NotReady, err, down)
	}

	for _, args := range [][]string{
		{"pull", "-c", inv, "-f", rel},
		{"status", "-c", inv, "-f", rel},
		{"seed", "--host", down, "-c", inv, "-f", rel},
	} {
		code, stdout, stderr := run(t, args...)
		want := notReady
		if args[0] == "seed" {
			want = "1 of 1 hosts not ready: " + down
		}
		if code != cli.ExitFailed || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, want 1 saying %q\nstdout:\n%s\nstderr:\n%s", args[0], code, want, stdout, stderr)
		}
		if args[0] != "status" && !strings.Contains(stdout, why) {
			t.Errorf("%s: the table does not say why %s is not ready:\n%s", args[0], down, stdout)
		}
	}

	code, stdout, _ = run(t, "status", "-c", inv, "-f", rel, "--json")
	var m struct {
		Hosts []struct {
			Name  string
			Cells []struct{ State, Error string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || code != cli.ExitFailed || len(m.Hosts) != 2 {
		t.Fatalf("status --json: exit %d, %v, %d hosts; want 1 and 2 hosts\n%s", code, err, len(m.Hosts), stdout)
	}
	for _, h := range m.Hosts {
		for _, c := range h.Cells {
			if h.Name == down && (c.State != "unreachable" || !strings.Contains(c.Error, "host "+down+" (dev): "+why)) {
				t.Errorf("status --json: %s: %s %q, want unreachable saying why", h.Name, c.State, c.Error)
			}
		}
	}
	if s := l.DockerHost(down).Stats(); len(s.Requests) != 0 {
		t.Errorf("%s's Docker endpoint got requests %v; want none", down, s.Requests)
	}
}
