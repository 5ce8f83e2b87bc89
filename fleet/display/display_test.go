package display

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover-dev/drover/fleet"
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

var hosts = []fleet.Target{{Name: "eu-01"}, {Name: "eu-02"}, {Name: "us-01"}}

func feed(d *Display) {
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			d.Update(fleet.Progress{Host: h.Name, Image: "app", Phase: "checking"})
			for n := int64(1); n <= 4; n++ {
				d.Update(fleet.Progress{Host: h.Name, Image: "app", Phase: "pulling", Current: n << 20, Total: 4 << 20})
			}
			if i == 2 {
				d.Update(fleet.Progress{Host: h.Name, Image: "app", Phase: "failed", Err: "boom"})
				return
			}
			d.Update(fleet.Progress{Host: h.Name, Image: "app", Phase: "done"})
		})
	}
	wg.Wait()
}

func TestBars(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	d := New(&out, true, slog.New(slog.DiscardHandler), hosts, time.Second)
	feed(d)
	d.Close()
	for _, h := range hosts {
		if !strings.Contains(out.String(), h.Name) {
			t.Errorf("no bar for %s in:\n%s", h.Name, out.String())
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
		d := New(&out, false, slog.New(slog.NewTextHandler(&out, nil)), hosts, 10*time.Second)
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
