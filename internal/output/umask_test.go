//go:build unix

package output

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileAtomicHonoursUmask: reports and metrics written under umask
// 077 are 0600 (they were forced to 0644). The umask is process-wide, hence
// the child process.
func TestWriteFileAtomicHonoursUmask(t *testing.T) {
	if dir := os.Getenv("OUTPUT_UMASK_CHILD"); dir != "" {
		syscall.Umask(0o077)
		if err := WriteJSON(filepath.Join(dir, "report.json"), map[string]int{"a": 1}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestWriteFileAtomicHonoursUmask$")
	cmd.Env = append(os.Environ(), "OUTPUT_UMASK_CHILD="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	fi, err := os.Stat(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != fs.FileMode(0o600) {
		t.Errorf("report written under umask 077 has mode %o, want 600", got)
	}
}
