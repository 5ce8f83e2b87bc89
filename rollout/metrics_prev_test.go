//go:build unix

package rollout

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWriteMetricsPrevBounded: the file --metrics-file replaces is read for
// the last success times, but only a regular file of at most 1 MiB: a
// huge file costs neither memory nor time, a FIFO is not waited on, and a
// normal file still carries its times over.
func TestWriteMetricsPrevBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	failed := &Report{Started: time.Unix(100, 0), Ended: time.Unix(160, 0),
		Envs: []EnvReport{{Env: "dev", Status: EnvFailed}}}

	normal := filepath.Join(dir, "normal.prom")
	if err := os.WriteFile(normal, []byte(lastSuccessMetric+`{env="dev"} 42`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := failed.WriteMetrics(normal); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(normal); !strings.Contains(string(b), lastSuccessMetric+`{env="dev"} 42`) {
		t.Errorf("a failed run lost the last success time:\n%s", b)
	}

	huge := filepath.Join(dir, "huge.prom")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: no disk
		t.Fatal(err)
	}
	_ = f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := failed.WriteMetrics(huge); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("replacing a 1 GiB file allocated %d MiB", grew>>20)
	}

	fifo := filepath.Join(dir, "fifo.prom")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if b := readPrevMetrics(fifo); b != nil {
		t.Errorf("read %d bytes from a FIFO", len(b))
	}
}
