package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/cli/clitest"
	"github.com/drover-dev/drover/inventory"
)

// TestStaleLock: a release edited after its lock was written (app 1.0 to
// 1.1) is an exit-2 error in every command that reads both, naming the
// image and both references, before any host is called; the printed
// command locks the release again, and run (which re-resolves) keeps
// working when the release changed. Was: pull and status acted on the
// lock's 1.0 and exited 0.
func TestStaleLock(t *testing.T) {
	t.Parallel()
	l := newMirrorLab(t)
	write(t, l.hosts, fmt.Sprintf("version: 1\nregistries:\n  source:\n    address: %s\n    insecure: true\n  regions:\n    eu:\n      address: %s\n      insecure: true\n"+
		"environments:\n  - name: dev\n    region: eu\n    hosts:\n      - {name: dev-01, docker: \"tcp://127.0.0.1:1\"}\n",
		l.src.Addr(), l.regions[0].Addr()))
	if code, _, errOut := l.run(t, "mirror", "-f", l.release); code != cli.ExitOK {
		t.Fatalf("mirror: exit %d\n%s", code, errOut)
	}
	v10, v11 := l.src.Addr()+"/team/app:1.0", l.src.Addr()+"/team/app:1.1"
	write(t, l.release, "version: 1\nimages:\n  - name: app\n    ref: "+v11+"\n")

	want := []string{"image app: the release has " + v11 + ", the lock has " + v10,
		"lock the release again with `prewarm mirror -c " + l.hosts + " -f " + l.release + "`"}
	var stderr string
	for _, args := range [][]string{
		{"pull", "-f", l.release},
		{"status", "-f", l.release},
		{"prune", "-f", l.release, "--dry-run"},
		{"seed", "-f", l.release, "--host", "dev-01", "--no-rancher"},
	} {
		code, _, errOut := l.run(t, args...)
		if code != cli.ExitUsage {
			t.Errorf("%s with a stale lock: exit %d, want 2\n%s", args[0], code, errOut)
		}
		for _, w := range want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s with a stale lock: stderr lacks %q:\n%s", args[0], w, errOut)
			}
		}
		stderr = errOut
	}

	cmds, err := clitest.Commands(stderr)
	if err != nil || len(cmds) != 1 {
		t.Fatalf("want one printed command, got %q (%v)", cmds, err)
	}
	if code, _, errOut := run(t, cmds[0][1:]...); code != cli.ExitOK {
		t.Fatalf("the printed %q: exit %d\n%s", cmds[0], code, errOut)
	}
	if code, _, errOut := l.run(t, "status", "-f", l.release, "--timeout", "5s"); code != cli.ExitFailed || strings.Contains(errOut, "does not match") {
		t.Errorf("status after the printed mirror: exit %d, want 1 (the host is unreachable)\n%s", code, errOut)
	}

	// run resolves the release itself: a release changed since the lock
	// is what it is for.
	write(t, l.release, "version: 1\nimages:\n  - name: app\n    ref: "+v10+"\n")
	if code, _, errOut := l.run(t, "run", "-f", l.release, "--timeout", "5s", "--retries", "0"); code != cli.ExitFailed || strings.Contains(errOut, "does not match") {
		t.Errorf("run with a changed release: exit %d, want 1 (the host is unreachable)\n%s", code, errOut)
	}
	if lock, err := inventory.ReadLock(filepath.Join(l.dir, "release.lock.json")); err != nil || lock.Images[0].Ref != v10 {
		t.Errorf("lock after run: %+v, %v; want it to lock %s", lock, err, v10)
	}
}
