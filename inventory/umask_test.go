//go:build unix

package inventory

import (
	"testing"

	"github.com/drover-dev/drover/internal/atomicfile/umasktest"
)

// TestWriteLockHonoursUmask: under umask 077 the lock is 0600 (it was
// forced to 0644).
func TestWriteLockHonoursUmask(t *testing.T) {
	umasktest.Run(t, "release.lock.json", func(path string) error { return WriteLock(path, &Lock{}) }, umasktest.Private)
}
