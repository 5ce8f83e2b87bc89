package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

// TestPruneCommandRuns: the prune a full disk's error offers parses as
// printed (through a shell, with a path that needs quoting) and reaches
// the hosts: exit 1 here, where the host does not answer, never 2.
func TestPruneCommandRuns(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to split the printed command")
	}
	dir := filepath.Join(t.TempDir(), "my inventory")
	inv := filepath.Join(dir, "hosts.yaml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, inv, "version: 1\nregistries:\n  source: {address: \"127.0.0.1:1\"}\n  regions:\n    r1: {address: \"127.0.0.1:1\"}\n"+
		"environments:\n  - name: dmz\n    region: r1\n    hosts:\n      - {name: h1, docker: \"tcp://127.0.0.1:1\"}\n")
	// pull ran with this lock, so it exists when the command is offered
	writeFile(t, filepath.Join(dir, "release.lock.json"), `{"version": 1, "source": "127.0.0.1:1", "images": [{"name": "app", "ref": "127.0.0.1:1/team/app:1.4",
	  "repository": "team/app", "tag": "1.4", "digest": "sha256:7de182bfbd894221b02f73c4d4a19d8c04c37ee6f1f3de4fd43399e266ed9dba"}]}`)
	env := &cli.Env{ConfigFlag: inv}
	for _, f := range []*fleetFlags{{}, {lock: filepath.Join(dir, "release.lock.json")}} {
		printed := pruneCommand(env, f)("dmz", "team/app")
		out, err := exec.CommandContext(t.Context(), bash, "-c", `printf '%s\n' `+printed).Output() //nolint:gosec // the test's own command line
		if err != nil {
			t.Fatalf("%s: %v", printed, err)
		}
		args := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if args[0] != "prewarm" {
			t.Fatalf("printed %q", printed)
		}
		code, _, errs := run(t, append(args[1:], "--dry-run", "--timeout", "5s")...)
		if code == cli.ExitUsage {
			t.Errorf("%s: exit 2: %s", printed, errs)
		}
	}
}
