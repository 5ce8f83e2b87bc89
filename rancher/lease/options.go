package lease

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Option configures a [Manager].
type Option func(*options) error

type options struct {
	ttl     time.Duration
	renew   time.Duration
	settle  time.Duration
	release time.Duration
	now     func() time.Time
	logger  *slog.Logger
}

func defaultOptions() options {
	return options{ttl: 2 * time.Minute, settle: time.Second, release: 30 * time.Second,
		now: time.Now, logger: slog.New(slog.DiscardHandler)}
}

// WithTTL sets how long a lease lives without renewal: a run that crashes blocks the
// environment for at most this long. It is renewed every third of it. The default is 2m.
func WithTTL(d time.Duration) Option {
	return func(o *options) error {
		if d < 3*time.Second {
			return fmt.Errorf("WithTTL: %v is below the minimum of 3s", d)
		}
		o.ttl = d
		return nil
	}
}

// WithSettle sets how long Acquire waits before it lists the lease objects a second
// time to confirm it holds the lowest id (a concurrent create may commit a lower id
// after our first list). The default is 1s; 0 skips the second look.
func WithSettle(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("WithSettle: %v is negative", d)
		}
		o.settle = d
		return nil
	}
}

// WithReleaseTimeout bounds Release (and the cleanup of a lost Acquire), which run even
// after the caller's context is cancelled. The default is 30s.
func WithReleaseTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithReleaseTimeout: %v is not positive", d)
		}
		o.release = d
		return nil
	}
}

// WithClock sets the clock that stamps and judges expiry. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		o.now = now
		return nil
	}
}

// WithLogger sets the logger; takeovers of expired leases and failed renewals are
// logged as warnings. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}
