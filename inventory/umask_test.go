//go:build unix

package inventory

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteLockHonoursUmask: under umask 077 the lock is 0600 (it was
// forced to 0644). The umask is process-wide, hence the child process.
func TestWriteLockHonoursUmask(t *testing.T) {
	if dir := os.Getenv("INVENTORY_UMASK_CHILD"); dir != "" {
		syscall.Umask(0o077)
		if err := WriteLock(filepath.Join(dir, "release.lock.json"), &Lock{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestWriteLockHonoursUmask$")
	cmd.Env = append(os.Environ(), "INVENTORY_UMASK_CHILD="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	fi, err := os.Stat(filepath.Join(dir, "release.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != fs.FileMode(0o600) {
		t.Errorf("lock written under umask 077 has mode %o, want 600", got)
	}
}
