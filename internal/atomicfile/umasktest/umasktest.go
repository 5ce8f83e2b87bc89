//go:build unix

// Package umasktest checks that a writer honours the process umask. The
// umask is process-wide, so each case runs the calling test again in a
// child process (go test's own binary) under that umask.
package umasktest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Case is a umask and the mode the written file must then have.
type Case struct {
	Umask fs.FileMode
	Want  fs.FileMode
}

// Private is the case every writer of reports, locks and metrics must
// pass: under umask 077 the file is 0600 (never forced to 0644).
var Private = Case{Umask: 0o077, Want: 0o600}

const (
	envDir  = "UMASKTEST_DIR"
	envMask = "UMASKTEST_UMASK"
)

// Run checks, for each case, that write(path) run under its umask creates
// path (file, in a fresh directory) with mode Want. Call it first thing in
// a test function, which must not call t.Parallel itself: in the child
// process Run does the write and returns, and the rest of the test is
// skipped there.
func Run(t *testing.T, file string, write func(path string) error, cases ...Case) {
	t.Helper()
	if dir := os.Getenv(envDir); dir != "" {
		mask, err := strconv.ParseUint(os.Getenv(envMask), 8, 32)
		if err != nil {
			t.Fatal(err)
		}
		syscall.Umask(int(mask))
		if err := write(filepath.Join(dir, file)); err != nil {
			t.Fatal(err)
		}
		t.SkipNow()
	}
	t.Parallel()
	for _, tc := range cases {
		dir := t.TempDir()
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+t.Name()+"$") //nolint:gosec // the test binary itself, running the calling test
		cmd.Env = append(os.Environ(), envDir+"="+dir, envMask+"="+strconv.FormatUint(uint64(tc.Umask), 8))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		fi, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.Want {
			t.Errorf("%s written under umask %03o has mode %o, want %o", file, tc.Umask, got, tc.Want)
		}
	}
}
