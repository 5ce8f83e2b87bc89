package rolloutview

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/drover-dev/drover/rollout"

	"github.com/drover-dev/drover/internal/shown"
)

// RolloutLive shows the rollout engine's events: a live table on a terminal
// (environment, service, state, batch x/y), or one log line per event
// otherwise. The table is drawn at most once per [RedrawInterval]: changes
// and log lines that come sooner are drawn together at the interval's end
// (a timer), and [RolloutLive.Close] draws the final state. It is safe for
// concurrent use.
type RolloutLive struct {
	w      io.Writer
	log    *slog.Logger
	live   bool
	mu     sync.Mutex
	rows   map[string]rollout.Event
	order  []string
	drawn  int          // lines of the table on the terminal (0: none)
	last   time.Time    // when the table was last drawn
	timer  *time.Timer  // the redraw scheduled at last+RedrawInterval, or nil
	held   bytes.Buffer // log lines waiting for that redraw
	closed bool
	size   func() (width, height int)
}

// RedrawInterval is the shortest time between two draws of the live
// table. Redrawing it for every event and log line (a debug log writes
// many a second) costs a full table of output each time and flickers.
const RedrawInterval = 200 * time.Millisecond

// NewRolloutLive draws the live table on w when live (a terminal), else
// logs each event to log.
func NewRolloutLive(w io.Writer, live bool, log *slog.Logger) *RolloutLive {
	return &RolloutLive{w: w, log: log, live: live, rows: map[string]rollout.Event{}}
}

// EventLevel is the level an engine event is logged at: ERROR for an
// environment that ended failed, gated or needing a human (the run fails);
// WARN for a service that failed or was not rolled back (its environment
// is put back), a closed gate, and an interrupted environment; INFO for
// progress.
func EventLevel(ev rollout.Event) slog.Level {
	switch ev.Step {
	case "ended":
		switch rollout.EnvStatus(ev.State) {
		case rollout.EnvFailed, rollout.EnvGated, rollout.EnvNeedsHuman:
			return slog.LevelError
		case rollout.EnvInterrupted:
			return slog.LevelWarn
		case rollout.EnvDone, rollout.EnvNotStarted:
		}
	case "failed", "gated":
		return slog.LevelWarn
	case "rollback":
		if ev.Message != "" {
			return slog.LevelWarn // not rolled back: someone else's image
		}
	}
	return slog.LevelInfo
}

// SetSize gives the table the terminal's size (columns and lines; 0 for
// unknown), asked once at every draw so that a resized terminal is
// followed. Lines are fitted to the width (0: not fitted). A table with
// more rows than the terminal has lines (less one, for the cursor) shows
// the first ones and "... and N more services": a redraw taller than the
// terminal would scroll, leaving stale copies behind (0: every row shown).
func (p *RolloutLive) SetSize(size func() (width, height int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.size = size
}

// Live reports whether the table is drawn (log lines should then be
// written through [RolloutLive.Write]).
func (p *RolloutLive) Live() bool { return p.live }

// Event is the engine's progress callback.
func (p *RolloutLive) Event(ev rollout.Event) {
	if !p.live {
		attrs := []any{"env", ev.Env, "step", ev.Step}
		if ev.Service != "" {
			attrs = append(attrs, "service", ev.Service)
		}
		if ev.State != "" {
			attrs = append(attrs, "state", ev.State, "health", ev.Health)
		}
		if ev.Batches > 0 && ev.Batch > 0 {
			attrs = append(attrs, "batch", fmt.Sprintf("%d/%d", ev.Batch, ev.Batches))
		}
		if ev.Message != "" {
			attrs = append(attrs, "note", ev.Message)
		}
		p.log.Log(context.Background(), EventLevel(ev), "rollout", attrs...)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := ev.Env + "\x00" + ev.Service
	if _, ok := p.rows[k]; !ok {
		p.order = append(p.order, k)
	}
	if old, ok := p.rows[k]; ok && ev.Batch == 0 {
		// A finished service's last known batch stays shown.
		ev.Batch = old.Batch
		if ev.Batches == 0 {
			ev.Batches = old.Batches
		}
	}
	p.rows[k] = ev
	p.redraw()
}

// redraw draws the table now if the last draw is at least RedrawInterval
// ago, else schedules a draw for then (once). Called with mu held.
func (p *RolloutLive) redraw() {
	if p.closed || p.timer != nil {
		return // drawn by Close, or by the scheduled draw
	}
	if wait := RedrawInterval - time.Since(p.last); wait > 0 && !p.last.IsZero() {
		p.timer = time.AfterFunc(wait, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.timer = nil
			if !p.closed {
				p.draw()
			}
		})
		return
	}
	p.draw()
}

// draw clears the table, writes the log lines held since, and draws the
// table below them. Called with mu held.
func (p *RolloutLive) draw() {
	p.last = time.Now()
	if p.drawn > 0 {
		// From the line's start: the terminal may have echoed ^C where
		// the cursor was.
		fmt.Fprintf(p.w, "\r\x1b[%dA\x1b[J", p.drawn)
		p.drawn = 0
	}
	if p.held.Len() > 0 {
		_, _ = p.held.WriteTo(p.w)
	}
	rows := [][]string{{"ENV", "SERVICE", "STEP", "STATE", "BATCH", "NOTE"}}
	for _, k := range p.order {
		ev := p.rows[k]
		b := "-"
		switch {
		case ev.Batches > 0 && ev.Batch > 0:
			b = fmt.Sprintf("%d/%d", ev.Batch, ev.Batches)
		case ev.Batches > 0:
			b = fmt.Sprintf("?/%d", ev.Batches) // the adapter does not know the batch
		}
		svc := ev.Service
		if svc == "" {
			svc = "(environment)"
		}
		row := []string{ev.Env, svc, ev.Step, strings.TrimSpace(ev.State + " " + ev.Health), b, ev.Message}
		for i := range row {
			row[i] = shown.Printable(row[i]) // Rancher's messages: one line, nothing the terminal obeys
		}
		rows = append(rows, row)
	}
	width, height := 0, 0
	if p.size != nil {
		width, height = p.size()
	}
	rows, more := fitHeight(rows, height)
	lines := fitTable(rows, width)
	if more != "" {
		if width > 0 {
			more = cut(more, width-1)
		}
		lines = append(lines, more)
	}
	for _, line := range lines {
		fmt.Fprintln(p.w, line)
	}
	p.drawn = len(lines)
}

// fitHeight keeps rows (the header first) within height-1 lines (0: no
// limit): when they do not fit, the first height-2 and a line that says
// how many are left out (else ""). It keeps at least the header.
func fitHeight(rows [][]string, height int) ([][]string, string) {
	if height <= 0 || len(rows) <= height-1 {
		return rows, ""
	}
	keep := max(height-2, 1)
	more := len(rows) - keep
	noun := "services"
	if more == 1 {
		noun = "service"
	}
	return rows[:keep], fmt.Sprintf("... and %d more %s", more, noun)
}

// Column limits of the live table: the widest a column grows to, and the
// narrowest it shrinks to on a narrow terminal (cells are cut with an
// ellipsis). The note takes what is left, and is dropped below noteMin.
var (
	colMax  = []int{20, 36, 14, 26, 7}
	colMin  = []int{6, 12, 8, 10, 5}
	noteMin = 10
)

// fitTable lays rows (the header first) out in columns, every line at most
// width-1 columns (0: no limit), so that a redraw's cursor-up count is the
// line count: a line that wraps would leave a stale copy of the table
// behind.
func fitTable(rows [][]string, width int) []string {
	ncol := len(colMax)
	w := make([]int, ncol)
	for _, r := range rows {
		for i := range ncol {
			w[i] = min(max(w[i], cells(r[i])), colMax[i])
		}
	}
	limit := width - 1
	total := func() int {
		n := ncol - 1 // the spaces between the fixed columns
		for _, x := range w {
			n += x
		}
		return n
	}
	// Shrink service, then env, then state, down to their minimums.
	for _, i := range []int{1, 0, 3, 2} {
		if width > 0 && total() > limit {
			w[i] = max(colMin[i], w[i]-(total()-limit))
		}
	}
	note := 1 << 30
	if width > 0 {
		note = limit - total() - 1
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		var b strings.Builder
		for i := range ncol {
			if i > 0 {
				b.WriteByte(' ')
			}
			c := cut(r[i], w[i])
			b.WriteString(c + strings.Repeat(" ", w[i]-cells(c)))
		}
		if note >= noteMin && r[ncol] != "" {
			b.WriteString(" " + cut(r[ncol], min(note, 60)))
		}
		line := strings.TrimRight(b.String(), " ")
		if width > 0 && cells(line) > limit {
			line = cut(line, limit) // narrower than the minimums allow
		}
		out = append(out, line)
	}
	return out
}

// cells is the width of s on a terminal (one column per rune).
func cells(s string) int { return utf8.RuneCountInString(s) }

// cut shortens s to n columns, ending it with an ellipsis when cut.
func cut(s string, n int) string {
	if cells(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:max(n, 0)])
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Write takes log lines while the live table is up: they are written
// above the table at its next draw (at most RedrawInterval later), so that
// logs and the table do not overwrite each other and a burst of lines
// costs one redraw. Before the first draw, after Close and off a terminal
// it passes through.
func (p *RolloutLive) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live || p.closed || (p.drawn == 0 && p.timer == nil) {
		return p.w.Write(b)
	}
	p.held.Write(b)
	p.redraw()
	return len(b), nil
}

// Close draws the final table (with the log lines held for it) and stops
// the scheduled draw; later writes pass through.
func (p *RolloutLive) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	switch {
	case p.live && len(p.order) > 0:
		p.draw()
	case p.held.Len() > 0:
		_, _ = p.held.WriteTo(p.w)
	}
}
