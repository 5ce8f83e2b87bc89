//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestWriteFileHonoursUmask runs in a child process, since the umask is
// process-wide: under 077 the file is 0600, under 022 0644, never wider.
func TestWriteFileHonoursUmask(t *testing.T) {
	if dir := os.Getenv("ATOMICFILE_UMASK_CHILD"); dir != "" {
		mask, err := strconv.ParseInt(os.Getenv("ATOMICFILE_UMASK"), 8, 32)
		if err != nil {
			t.Fatal(err)
		}
		syscall.Umask(int(mask))
		if err := WriteFile(filepath.Join(dir, "out"), []byte("x")); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Parallel()
	for _, tc := range []struct {
		umask string
		want  fs.FileMode
	}{{"077", 0o600}, {"022", 0o644}, {"000", 0o644}} {
		dir := t.TempDir()
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestWriteFileHonoursUmask$")
		cmd.Env = append(os.Environ(), "ATOMICFILE_UMASK_CHILD="+dir, "ATOMICFILE_UMASK="+tc.umask)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		fi, err := os.Stat(filepath.Join(dir, "out"))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("umask %s: mode %o, want %o", tc.umask, got, tc.want)
		}
	}
}
