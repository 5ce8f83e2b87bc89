package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// fakeLocker hands out leases on environments, refusing those in held.
type fakeLocker struct {
	mu       sync.Mutex
	held     map[string]bool
	locked   []string // in Lock order
	released []string
	leases   map[string]*fakeHeld
}

type fakeHeld struct {
	l    *fakeLocker
	env  string
	lost chan struct{}
	err  error
}

func (l *fakeLocker) Lock(_ context.Context, env string) (Held, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[env] {
		return nil, fmt.Errorf("environment %s is held by bob@b: %w", env, ErrHeld)
	}
	l.locked = append(l.locked, env)
	h := &fakeHeld{l: l, env: env, lost: make(chan struct{})}
	if l.leases == nil {
		l.leases = map[string]*fakeHeld{}
	}
	l.leases[env] = h
	return h, nil
}

func (h *fakeHeld) Lost() <-chan struct{} { return h.lost }
func (h *fakeHeld) Err() error            { return h.err }
func (h *fakeHeld) Release(context.Context) error {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	h.l.released = append(h.l.released, h.env)
	return nil
}

// TestHold: leases are taken in name order, once each; when one is held
// by another run, those taken are given back and the error names the
// holder; a lease lost while running cancels the run's context with its
// error; release gives every lease back, also after Ctrl-C.
func TestHold(t *testing.T) {
	t.Parallel()
	t.Run("held", func(t *testing.T) {
		t.Parallel()
		l := &fakeLocker{held: map[string]bool{"qa": true}}
		_, _, err := Hold(t.Context(), l, []string{"qa", "dev", "prod", "dev"})
		if !errors.Is(err, ErrHeld) || err.Error() != "environment qa is held by bob@b: "+ErrHeld.Error() {
			t.Errorf("err = %v, want qa held by bob@b", err)
		}
		if !slices.Equal(l.locked, []string{"dev", "prod"}) || !slices.Equal(l.released, []string{"dev", "prod"}) {
			t.Errorf("locked %v, released %v; want dev and prod taken, then given back", l.locked, l.released)
		}
	})
	t.Run("lost and released", func(t *testing.T) {
		t.Parallel()
		l := &fakeLocker{}
		ctx, interrupt := context.WithCancel(t.Context())
		run, release, err := Hold(ctx, l, []string{"prod", "dev"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.locked, []string{"dev", "prod"}) || run.Err() != nil {
			t.Fatalf("locked %v, run err %v", l.locked, run.Err())
		}
		lost := l.leases["prod"]
		lost.err = errors.New("lease prod: object 1go7 was removed by someone else")
		close(lost.lost)
		<-run.Done()
		if cause := context.Cause(run); cause == nil || !errors.Is(cause, lost.err) {
			t.Errorf("run cause %v, want the lost lease's error", cause)
		}
		interrupt() // Ctrl-C: release must still give everything back
		if err := release(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.released, []string{"dev", "prod"}) {
			t.Errorf("released %v, want dev and prod", l.released)
		}
	})
}
