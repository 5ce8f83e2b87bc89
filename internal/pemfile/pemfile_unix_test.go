//go:build unix

package pemfile

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFIFO: a FIFO is refused without opening it (opening it for
// reading would wait for a writer forever).
func TestReadFIFO(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Read of a FIFO: %v, want not a regular file", err)
	}
}
