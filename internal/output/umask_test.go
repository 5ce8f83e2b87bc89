//go:build unix

package output

import (
	"testing"

	"github.com/drover-dev/drover/internal/atomicfile/umasktest"
)

// TestWriteFileAtomicHonoursUmask: reports and metrics written under umask
// 077 are 0600 (they were forced to 0644).
func TestWriteFileAtomicHonoursUmask(t *testing.T) {
	umasktest.Run(t, "report.json", func(path string) error { return WriteJSON(path, map[string]int{"a": 1}) }, umasktest.Private)
}
