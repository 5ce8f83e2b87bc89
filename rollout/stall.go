package rollout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrStalled is an upgrade that showed no batch progress for the stall timeout
// (WithStallTimeout). It fails and rolls back like an upgrade timeout.
var ErrStalled = errors.New("no batch progress")

// batchProgress is what counts as an upgrade moving: units at the new
// launch config (when the adapter knows them), the state, and Rancher's
// transitioning message (which names the batch being started or stopped).
type batchProgress struct {
	newUnits int
	state    string
	message  string
}

func progressOf(x Service) batchProgress {
	return batchProgress{newUnits: x.NewUnits, state: x.State, message: x.TransitioningMessage}
}

// String is the last progress as an operator reads it.
func (p batchProgress) String(scale int) string {
	s := "state " + p.state
	if p.newUnits >= 0 {
		s = fmt.Sprintf("%d of %d units at the new launch config, %s", p.newUnits, scale, s)
	}
	if p.message != "" {
		s += " (Rancher: " + p.message + ")"
	}
	return s
}

// stallWatch cancels its context with ErrStalled when observe has seen no
// change for timeout. A zero timeout watches nothing.
type stallWatch struct {
	timeout time.Duration
	cancel  context.CancelCauseFunc
	timer   *time.Timer

	mu    sync.Mutex
	last  batchProgress
	scale int
	seen  bool
	since time.Time
}

// watchStall derives the context an upgrade wait runs under: it ends with
// an error wrapping ErrStalled after timeout without progress.
func watchStall(ctx context.Context, timeout time.Duration) (context.Context, *stallWatch) {
	w := &stallWatch{timeout: timeout, since: time.Now()}
	if timeout <= 0 {
		return ctx, w
	}
	sctx, cancel := context.WithCancelCause(ctx)
	w.cancel = cancel
	w.timer = time.AfterFunc(timeout, func() { cancel(w.err()) })
	return sctx, w
}

// observe notes a read of the service; a change restarts the clock.
func (w *stallWatch) observe(x Service) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := progressOf(x)
	w.scale = x.Scale
	if w.seen && p == w.last {
		return
	}
	w.last, w.seen, w.since = p, true, time.Now()
	if w.timer != nil {
		w.timer.Reset(w.timeout)
	}
}

func (w *stallWatch) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	last := "nothing read"
	if w.seen {
		last = w.last.String(w.scale)
	}
	return fmt.Errorf("upgrade: %w for %v (the stall timeout); last progress: %s", ErrStalled, w.timeout, last)
}

func (w *stallWatch) stop() {
	if w.timer != nil {
		w.timer.Stop()
		w.cancel(nil)
	}
}
