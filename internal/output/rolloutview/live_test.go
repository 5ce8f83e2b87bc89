package rolloutview_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/drover-dev/drover/internal/output/rolloutview"
	"github.com/drover-dev/drover/rollout"
)

// TestRolloutLiveUnknownBatch: the live table shows a batch it does not know
// as ?/N, never as batch 0.
func TestRolloutLiveUnknownBatch(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := rolloutview.NewRolloutLive(&b, true, slog.New(slog.DiscardHandler))
	p.Event(rollout.Event{Env: "dev", Service: "web/a", Step: "upgrade", State: "upgrading", Batches: 3})
	p.Close()
	if !strings.Contains(b.String(), "?/3") || strings.Contains(b.String(), "0/3") {
		t.Errorf("live table:\n%s\nwant batch ?/3", b.String())
	}
}

// TestRolloutLiveLogLinesAboveTable: a log line while the live table is up
// is held until the next draw (at most RedrawInterval later), which clears
// the table, writes the line above it, and draws the table again below.
func TestRolloutLiveLogLinesAboveTable(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var b lockedBuffer
		p := rolloutview.NewRolloutLive(&b, true, slog.New(slog.DiscardHandler))
		p.Event(rollout.Event{Env: "dev", Service: "web/a", Step: "upgrade", State: "upgrading"})
		first := b.Len()
		if _, err := p.Write([]byte("level=WARN msg=interrupted\n")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(rolloutview.RedrawInterval)
		synctest.Wait()
		got := b.String()[first:]
		const clear = "\r\x1b[2A\x1b[J" // the header and one row
		if !strings.HasPrefix(got, clear+"level=WARN msg=interrupted\nENV ") || !strings.Contains(got, "web/a") {
			t.Errorf("after a log line: %q, want the table cleared, the line, then the table again", got)
		}
		p.Close()
	})
	var off bytes.Buffer
	q := rolloutview.NewRolloutLive(&off, false, slog.New(slog.DiscardHandler))
	_, _ = q.Write([]byte("plain\n"))
	if off.String() != "plain\n" {
		t.Errorf("off a terminal: %q, want the line as is", off.String())
	}
}

// TestRolloutLiveRedrawRate: a second of events and log lines, one each
// per millisecond, draws the table about once per RedrawInterval (not a
// thousand times), asks the terminal's size once per draw, writes every
// log line once and in order, and draws the latest state within one
// interval of the last change, without waiting for Close.
func TestRolloutLiveRedrawRate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var b lockedBuffer
		p := rolloutview.NewRolloutLive(&b, true, slog.New(slog.DiscardHandler))
		var sizes atomic.Int64
		p.SetSize(func() (int, int) { sizes.Add(1); return 80, 24 })
		const n = 1000
		for i := range n {
			p.Event(rollout.Event{Env: "dev", Service: "web/a", Step: "upgrade", State: fmt.Sprintf("step%d", i), Batch: 1, Batches: 2})
			if _, err := fmt.Fprintf(p, "level=DEBUG msg=request n=%d\n", i); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(rolloutview.RedrawInterval)
		synctest.Wait()
		out := b.String()
		draws := strings.Count(out, "ENV ")
		if limit := int(n*time.Millisecond/rolloutview.RedrawInterval) + 2; draws > limit {
			t.Errorf("%d draws for %d events and log lines in %v, want at most %d", draws, n, n*time.Millisecond, limit)
		}
		if got := sizes.Load(); got != int64(draws) {
			t.Errorf("the terminal's size was asked %d times for %d draws, want once per draw", got, draws)
		}
		final := out[strings.LastIndex(out, "\x1b[J")+3:]
		if !strings.Contains(final, fmt.Sprintf("step%d ", n-1)) {
			t.Errorf("an interval after the last event, the table shows:\n%s\nwant state step%d", final, n-1)
		}
		at := 0
		for i := range n {
			line := fmt.Sprintf("level=DEBUG msg=request n=%d\n", i)
			j := strings.Index(out[at:], line)
			if j < 0 {
				t.Fatalf("log line %d missing or out of order:\n%q", i, out)
			}
			at += j + len(line)
		}
		if strings.Count(out, "n=999\n") != 1 {
			t.Errorf("the last log line is written %d times, want once", strings.Count(out, "n=999\n"))
		}
		before := b.Len()
		p.Close()
		if b.Len() == before || !strings.Contains(b.String()[before:], fmt.Sprintf("step%d ", n-1)) {
			t.Errorf("Close drew %q, want the final table", b.String()[before:])
		}
		if _, err := p.Write([]byte("after\n")); err != nil || !strings.HasSuffix(b.String(), "\nafter\n") {
			t.Errorf("after Close a line is written as is: %q, %v", b.String(), err)
		}
	})
}

// lockedBuffer is a bytes.Buffer for the live view's timer and the test.
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

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// TestRolloutLiveFitsWidth: at 80 columns, long environment and service
// names and notes are cut (with an ellipsis) so that no line wraps, and
// each redraw moves up exactly the lines it drew.
func TestRolloutLiveFitsWidth(t *testing.T) {
	t.Parallel()
	for _, width := range []int{80, 50, 0} {
		var b bytes.Buffer
		p := rolloutview.NewRolloutLive(&b, true, slog.New(slog.DiscardHandler))
		p.SetSize(func() (int, int) { return width, 0 })
		long := strings.Repeat("x", 60)
		p.Event(rollout.Event{Env: "production-eu-west-" + long, Service: "payments/" + long, Step: "upgrade", State: "upgrading", Health: "healthy",
			Batch: 2, Batches: 3, Message: "127.0.0.1:5000/app:1.0 -> 127.0.0.1:5000/app:1.1 " + long})
		p.Event(rollout.Event{Env: "dev", Step: "gate", Message: "checking images on hosts"})
		if _, err := p.Write([]byte("level=WARN msg=interrupted\n")); err != nil {
			t.Fatal(err)
		}
		p.Close()
		out := b.String()
		for _, line := range strings.Split(out, "\n") {
			if i := strings.LastIndex(line, "\x1b[J"); i >= 0 {
				line = line[i+3:]
			}
			if n := utf8.RuneCountInString(line); width > 0 && n >= width {
				t.Errorf("width %d: a line of %d columns: %q", width, n, line)
			}
		}
		if width > 0 && !strings.Contains(out, "…") {
			t.Errorf("width %d: nothing cut:\n%s", width, out)
		}
		if width == 80 && !strings.Contains(out, "2/3") {
			t.Errorf("width 80: the batch column is gone:\n%s", out)
		}
		// Each clear moves up exactly the table lines drawn before it.
		segs := regexp.MustCompile(`\r\x1b\[(\d+)A\x1b\[J`).Split(out, -1)
		ups := regexp.MustCompile(`\r\x1b\[(\d+)A\x1b\[J`).FindAllStringSubmatch(out, -1)
		for i, m := range ups {
			drawn := strings.Count(segs[i], "\n") - strings.Count(segs[i], "level=")
			if m[1] != strconv.Itoa(drawn) {
				t.Errorf("width %d: redraw %d moves up %s lines, %d were drawn:\n%q", width, i, m[1], drawn, out)
			}
		}
	}
}

// TestRolloutLiveFitsHeight: with more rows than the terminal has lines,
// the table shows the first ones and how many more, in at most height-1
// lines, so that a redraw does not scroll; each clear moves up exactly the
// lines drawn.
func TestRolloutLiveFitsHeight(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		height, services, wantLines int
		wantMore                    string
	}{
		{height: 10, services: 30, wantLines: 9, wantMore: "... and 23 more services"},
		{height: 10, services: 9, wantLines: 9, wantMore: "... and 2 more services"},
		{height: 10, services: 8, wantLines: 9},
		{height: 0, services: 30, wantLines: 31},
		{height: 2, services: 3, wantLines: 2, wantMore: "... and 3 more services"},
	} {
		var b bytes.Buffer
		p := rolloutview.NewRolloutLive(&b, true, slog.New(slog.DiscardHandler))
		p.SetSize(func() (int, int) { return 0, tt.height })
		for i := range tt.services {
			p.Event(rollout.Event{Env: "dev", Service: fmt.Sprintf("web/svc%02d", i), Step: "upgrade", State: "upgrading"})
		}
		p.Close()
		out := b.String()
		final := out
		if i := strings.LastIndex(out, "\x1b[J"); i >= 0 {
			final = out[i+3:]
		}
		lines := strings.Split(strings.TrimSuffix(final, "\n"), "\n")
		if len(lines) != tt.wantLines {
			t.Errorf("height %d, %d services: %d lines, want %d:\n%s", tt.height, tt.services, len(lines), tt.wantLines, final)
		}
		if last := lines[len(lines)-1]; (tt.wantMore == "") == strings.HasPrefix(last, "...") || !strings.HasPrefix(last, tt.wantMore) {
			t.Errorf("height %d, %d services: last line %q, want %q", tt.height, tt.services, last, tt.wantMore)
		}
		segs := regexp.MustCompile(`\r\x1b\[(\d+)A\x1b\[J`).Split(out, -1)
		for i, m := range regexp.MustCompile(`\r\x1b\[(\d+)A\x1b\[J`).FindAllStringSubmatch(out, -1) {
			if drawn := strings.Count(segs[i], "\n"); m[1] != strconv.Itoa(drawn) {
				t.Errorf("height %d: redraw %d moves up %s lines, %d were drawn", tt.height, i, m[1], drawn)
			}
		}
	}
}

// TestRolloutLiveControlCharacters: a newline or an escape sequence in a
// message from Rancher is drawn as spaces, so the row stays one line (the
// redraw moves up the lines it drew) and the terminal obeys no server text.
func TestRolloutLiveControlCharacters(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := rolloutview.NewRolloutLive(&b, true, slog.New(slog.DiscardHandler))
	p.Event(rollout.Event{Env: "dev", Service: "web/a", Step: "upgrade", State: "upgrading", Message: "pull failed\nline two \x1b]0;owned\x07"})
	first := b.String()
	p.Event(rollout.Event{Env: "dev", Service: "web/a", Step: "verify", State: "upgraded"})
	p.Close()
	if strings.Contains(first, "\x1b]0;") || strings.Contains(first, "\x07") || strings.Contains(first, "failed\nline") {
		t.Errorf("first draw %q carries the message's control characters", first)
	}
	if !strings.Contains(b.String()[len(first):], "\x1b[2A") {
		t.Errorf("redraw %q, want it to move up the 2 lines drawn (header and one row)", b.String()[len(first):])
	}
}
