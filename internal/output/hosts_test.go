package output

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var hosts = []string{"eu-01", "eu-02", "us-01"}

func feed(d *HostBars) {
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			d.Update(h, "app", "checking", 0, 0)
			for n := int64(1); n <= 4; n++ {
				d.Update(h, "app", "pulling", n<<20, 4<<20)
			}
			if i == 2 {
				d.Update(h, "app", "failed", 0, 0)
				return
			}
			d.Update(h, "app", "done", 0, 0)
		})
	}
	wg.Wait()
}

func TestBars(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	d := NewHostBars(&out, true, slog.New(slog.DiscardHandler), hosts, time.Second)
	feed(d)
	d.Close()
	for _, h := range hosts {
		if !strings.Contains(out.String(), h) {
			t.Errorf("no bar for %s in:\n%s", h, out.String())
		}
	}
	if !strings.Contains(out.String(), "4.0 MiB") {
		t.Errorf("bars do not show layer bytes:\n%s", out.String())
	}
}

func TestLogLines(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var out lockedBuffer
		d := NewHostBars(&out, false, slog.New(slog.NewTextHandler(&out, nil)), hosts, 10*time.Second)
		feed(d)
		time.Sleep(10 * time.Second) // fake clock: one tick
		synctest.Wait()
		d.Close()
		got := out.String()
		for _, want := range []string{"prewarm progress", "finished=2", "failed=1", `bytes="12.0 MiB"`} {
			if !strings.Contains(got, want) {
				t.Errorf("log lacks %q:\n%s", want, got)
			}
		}
	})
}
