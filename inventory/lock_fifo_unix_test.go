//go:build unix

package inventory

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadLockFIFO: a FIFO given as the lock is refused at once; opening
// it for reading would wait forever for a writer.
func TestReadLockFIFO(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "release.lock.json")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := ReadLock(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ReadLock(FIFO) = %v, want not a regular file", err)
	}
}
