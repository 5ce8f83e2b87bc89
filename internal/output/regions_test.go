package output

import (
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestRegionBarsStop: stop finishes every bar and returns (mpb draws only
// on a terminal, so what it drew is not checked here). mpb's own goroutines
// and refresh ticker run on the real clock, so the wait for stop is bounded
// in real time: a bar left unfinished fails the test by name, not by
// hanging until go test's timeout.
func TestRegionBarsStop(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	show, stop := RegionBars(t.Context(), &out, true, slog.New(slog.DiscardHandler))
	show("eu", 1<<20, 4<<20)
	show("us", 4<<20, 4<<20)
	show("eu", 2<<20, 4<<20) // unfinished until stop
	stopped := make(chan struct{})
	go func() { defer close(stopped); stop() }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("stop did not return within 30s: a region's bar was left unfinished, and mpb waits for every bar")
	}
}

func TestRegionLogLines(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var out lockedBuffer
		show, stop := RegionBars(t.Context(), &out, false, slog.New(slog.NewTextHandler(&out, nil)))
		show("eu", 3<<20, 4<<20)
		synctest.Wait()
		time.Sleep(10 * time.Second) // fake clock: one tick
		synctest.Wait()
		stop()
		got := out.String()
		for _, want := range []string{"mirror progress", "region=eu", `done="3.0 MiB"`, `total="4.0 MiB"`} {
			if !strings.Contains(got, want) {
				t.Errorf("log lacks %q:\n%s", want, got)
			}
		}
	})
}
