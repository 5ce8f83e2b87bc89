package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Locker takes the one-operator lease of an environment: apply, rollback
// and finish hold it on every environment they write to, so that two
// operators never roll back each other's live upgrades. Leases (over
// rancher/lease) implements it on the Rancher server itself, where runs on
// different machines see each other.
type Locker interface {
	// Lock takes env's lease, or returns an error naming the holder when
	// another run holds it (errors.Is ErrHeld).
	Lock(ctx context.Context, env string) (Held, error)
}

// Held is a held lease.
type Held interface {
	// Lost is closed when the lease stops being ours (a human unlocked it).
	Lost() <-chan struct{}
	// Err says why it was lost.
	Err() error
	// Release gives it back; it runs even when ctx is cancelled.
	Release(ctx context.Context) error
}

// ErrHeld means another run holds an environment's lease: nothing was
// changed. Lockers wrap it.
var ErrHeld = errors.New("another operator holds the environment")

// Hold takes the lease of every environment in envs (in name order, so two
// runs over overlapping environments never each hold a part), before any
// write. When one is held by another run, the ones taken are given back and
// the error names the holder. The returned context is cancelled, with the
// lease's error as its cause, when a lease is lost while running: the
// engine then starts nothing new and brings in-flight services to rest, as
// on a first Ctrl-C. release gives every lease back; call it once the run
// has ended, Ctrl-C and errors included.
func Hold(ctx context.Context, l Locker, envs []string) (run context.Context, release func() error, err error) {
	envs = slices.Clone(envs)
	slices.Sort(envs)
	envs = slices.Compact(envs)
	var held []Held
	releaseAll := func() error {
		var errs []error
		for _, h := range held {
			errs = append(errs, h.Release(ctx))
		}
		held = nil
		return errors.Join(errs...)
	}
	for _, env := range envs {
		h, err := l.Lock(ctx, env)
		if err != nil {
			if rerr := releaseAll(); rerr != nil {
				err = fmt.Errorf("%w; %w", err, rerr)
			}
			return nil, nil, err
		}
		held = append(held, h)
	}
	run, cancel := context.WithCancelCause(ctx)
	stops := make([]func() bool, 0, len(held))
	for _, h := range held {
		stop := make(chan struct{})
		go func() {
			select {
			case <-h.Lost():
				cancel(fmt.Errorf("lease lost, starting nothing new: %w", h.Err()))
			case <-stop:
			}
		}()
		stops = append(stops, func() bool { close(stop); return true })
	}
	return run, func() error {
		for _, s := range stops {
			s()
		}
		cancel(context.Canceled)
		return releaseAll()
	}, nil
}
