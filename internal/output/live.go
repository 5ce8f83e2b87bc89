package output

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/drover-dev/drover/rollout"
)

// RolloutLive shows the rollout engine's events: a live table on a terminal
// (environment, service, state, batch x/y), redrawn at most every 200ms,
// or one log line per event otherwise. It is safe for concurrent use.
type RolloutLive struct {
	w      io.Writer
	log    *slog.Logger
	live   bool
	mu     sync.Mutex
	rows   map[string]rollout.Event
	order  []string
	drawn  int
	last   time.Time
	closed bool
}

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
	if old, ok := p.rows[k]; ok && ev.Batches == 0 {
		ev.Batch, ev.Batches = old.Batch, old.Batches
	}
	p.rows[k] = ev
	if time.Since(p.last) > 200*time.Millisecond {
		p.draw()
	}
}

func (p *RolloutLive) draw() {
	p.last = time.Now()
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
	}
	keys := slices.Clone(p.order)
	fmt.Fprintf(p.w, "%-14s %-28s %-12s %-18s %-9s %s\n", "ENV", "SERVICE", "STEP", "STATE", "BATCH", "NOTE")
	for _, k := range keys {
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
		note := ev.Message
		if len(note) > 60 {
			note = note[:57] + "..."
		}
		fmt.Fprintf(p.w, "%-14s %-28s %-12s %-18s %-9s %s\n", ev.Env, svc, ev.Step, ev.State+" "+ev.Health, b, note)
	}
	p.drawn = len(keys) + 1
}

// Write takes log lines while the live table is up: the table is cleared,
// the line written above it, and the table drawn again below, so logs and
// the table do not overwrite each other. Off a terminal it passes through.
func (p *RolloutLive) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live || p.closed || p.drawn == 0 {
		return p.w.Write(b)
	}
	fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
	p.drawn = 0
	n, err := p.w.Write(b)
	p.draw()
	return n, err
}

// Close draws the final table.
func (p *RolloutLive) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && !p.closed && len(p.order) > 0 {
		p.draw()
	}
	p.closed = true
}
