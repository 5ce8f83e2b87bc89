package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/filelock"
)

// TestRunDoesNotOverlap: while one prewarm run of a release holds its run
// lock (beside release.lock.json), a second exits 4 naming the holder's pid,
// before resolving anything and without writing its report; once the first
// has ended, a run goes through.
func TestRunDoesNotOverlap(t *testing.T) {
	t.Parallel()
	l := newMirrorLab(t)
	lockFile := filepath.Join(l.dir, "release.lock.json")
	first, err := filelock.TryLock(lockFile + ".run.lock")
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(l.dir, "report.json")
	code, _, errOut := l.run(t, "run", "-f", l.release, "--report", report)
	if code != cli.ExitBusy || !strings.Contains(errOut, "another prewarm run of "+l.release+" is still going") ||
		!strings.Contains(errOut, "(pid "+strconv.Itoa(os.Getpid())+")") {
		t.Errorf("second run: exit %d, want %d naming pid %d\n%s", code, cli.ExitBusy, os.Getpid(), errOut)
	}
	if _, err := os.Stat(report); !os.IsNotExist(err) {
		t.Errorf("the refused run wrote its report (it would replace the running one's): %v", err)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Errorf("the refused run wrote the release's lock: %v", err)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = l.run(t, "run", "-f", l.release, "--report", report); code == cli.ExitBusy {
		t.Errorf("run after the first ended: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(report); err != nil {
		t.Errorf("the run after the first ended wrote no report: %v", err)
	}
}
