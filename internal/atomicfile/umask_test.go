//go:build unix

package atomicfile

import (
	"testing"

	"github.com/drover-dev/drover/internal/atomicfile/umasktest"
)

// TestWriteFileHonoursUmask: under 077 the file is 0600, under 022 0644,
// never wider.
func TestWriteFileHonoursUmask(t *testing.T) {
	umasktest.Run(t, "out", func(path string) error { return WriteFile(path, []byte("x")) },
		umasktest.Private, umasktest.Case{Umask: 0o022, Want: 0o644}, umasktest.Case{Umask: 0o000, Want: 0o644})
}
