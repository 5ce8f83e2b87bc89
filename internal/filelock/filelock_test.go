package filelock_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/filelock"
)

// TestTwoOpensInOneProcess: the lock is per open file, so a second open in the same
// process is refused, and free again after Unlock.
func TestTwoOpensInOneProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "prewarm.lock")
	first, err := filelock.TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = filelock.TryLock(path)
	if !errors.Is(err, filelock.ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) ||
		!strings.Contains(err.Error(), path) {
		t.Fatalf("second lock: %v, want ErrLocked naming the path and our pid", err)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := first.Unlock(); err != nil {
		t.Errorf("second Unlock: %v", err)
	}
	again, err := filelock.TryLock(path)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	_ = again.Unlock()
}

// TestSubprocess: another process is refused while we hold the lock, and gets it once
// we let go; a process that exits releases its lock.
func TestSubprocess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "prewarm.lock")
	held, err := filelock.TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := helper(t, path); err == nil || !strings.Contains(out, "locked by another run") {
		t.Fatalf("subprocess while held: %v %q, want refused", err, out)
	}
	if err := held.Unlock(); err != nil {
		t.Fatal(err)
	}
	if out, err := helper(t, path); err != nil {
		t.Fatalf("subprocess after unlock: %v %q", err, out)
	}
	// The subprocess exited holding the lock: it is free.
	l, err := filelock.TryLock(path)
	if err != nil {
		t.Fatalf("lock after the subprocess exited: %v", err)
	}
	_ = l.Unlock()
}

func TestBadPath(t *testing.T) {
	t.Parallel()
	_, err := filelock.TryLock(filepath.Join(t.TempDir(), "missing-dir", "x.lock"))
	if err == nil || errors.Is(err, filelock.ErrLocked) || !strings.Contains(err.Error(), "missing-dir") {
		t.Errorf("err = %v, want an open error naming the path", err)
	}
}

// helper runs this test binary as a subprocess that takes the lock and exits without
// unlocking.
func helper(t *testing.T, path string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "FILELOCK_HELPER="+path)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestHelperProcess(t *testing.T) {
	path := os.Getenv("FILELOCK_HELPER")
	if path == "" {
		t.Skip("run as a subprocess by TestSubprocess")
	}
	// Fails (exit status 1, the error in the output) when refused; on success the
	// process exits still holding the lock.
	if _, err := filelock.TryLock(path); err != nil {
		t.Fatal(err)
	}
}

// TestRefusesSymlink: a symbolic link at the lock's path is refused; it
// was followed, and its target truncated to hold the pid.
func TestRefusesSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "release.lock.json.run.lock")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	l, err := filelock.TryLock(link)
	if err == nil {
		_ = l.Unlock()
		t.Error("TryLock followed a symbolic link")
	} else if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error = %v, want it to say symbolic link", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("link target changed: %q", b)
	}
}
