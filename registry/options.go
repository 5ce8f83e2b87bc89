package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/drover-dev/drover/internal/ctxsleep"
	"github.com/drover-dev/drover/inventory"
)

// Option configures Resolve, Mirror and Plan. Options that get an invalid
// value make the call fail before any request.
type Option func(*options) error

type options struct {
	jobs      int
	platforms []v1.Platform
	foreign   bool
	logger    *slog.Logger
	progress  func(Progress)
	keychain  authn.Keychain
	transport http.RoundTripper
	// ownTransport: the transport was made here, so its idle connections
	// are closed when the call returns.
	ownTransport bool
	getenv       func(string) string
	attempts     int
	backoff      time.Duration
	maxBackoff   time.Duration
	chunk        int
	depth        int
	ranges       int   // ranges of one blob read from the source at once (1: one GET)
	rangeSize    int64 // bytes per range; blobs no larger are read by one GET
	stall        time.Duration
	previous     *inventory.Lock
	relock       bool
	regionDone   func(region string, err error)
	// sleep waits between retries; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// The mirror's defaults: the options start from them, and prewarm's flags
// show them. Each is the one definition of its value.
const (
	// DefaultJobs bounds the images, blobs and registry checks at once
	// (WithJobs).
	DefaultJobs = 4
	// DefaultStallTimeout is how long a registry may leave a request
	// unanswered, or a transfer move no bytes (WithStallTimeout).
	DefaultStallTimeout = 2 * time.Minute
)

func newOptions(opts []Option) (*options, error) {
	o := &options{
		jobs:       DefaultJobs,
		logger:     slog.New(slog.DiscardHandler),
		keychain:   authn.DefaultKeychain,
		getenv:     os.Getenv,
		attempts:   5,
		backoff:    250 * time.Millisecond,
		maxBackoff: 10 * time.Second,
		chunk:      256 << 10,
		depth:      4,
		ranges:     4,
		rangeSize:  8 << 20,
		stall:      DefaultStallTimeout,
		sleep:      ctxsleep.Sleep,
	}
	var errs []error
	for _, opt := range opts {
		if err := opt(o); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	if o.transport == nil {
		o.ownTransport = true
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 4 * o.jobs
		t.WriteBufferSize, t.ReadBufferSize = 64<<10, 64<<10 // fewer syscalls per streamed blob
		o.transport = t
	}
	return o, nil
}

// WithJobs bounds how many images, blobs and registry checks are worked on
// at once, and is the per-registry limit on concurrent blob transfers for
// registries whose inventory entry sets no maxConcurrency. The default is 4.
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("jobs %d: want at least 1", n)
		}
		o.jobs = n
		return nil
	}
}

// WithPlatforms narrows multi-arch indexes to the given platforms
// ("linux/amd64", "windows/amd64", "linux/arm64/v8") when resolving. An
// index with none of them is an error; a single-platform image is kept as
// is. The default keeps indexes whole.
func WithPlatforms(platforms ...string) Option {
	return func(o *options) error {
		o.platforms = nil
		for _, s := range platforms {
			p, err := parsePlatform(s)
			if err != nil {
				return err
			}
			o.platforms = append(o.platforms, *p)
		}
		return nil
	}
}

// WithNondistributable copies non-distributable (foreign) layers into
// every region. The default copies them only into regions whose inventory
// entry sets foreignLayers: mirror, and leaves them as references elsewhere,
// as registries and Docker expect: those hosts fetch them from their URLs.
// Manifests are copied unchanged either way (urls kept).
func WithNondistributable(copy bool) Option {
	return func(o *options) error { o.foreign = copy; return nil }
}

// WithLogger sets where debug and retry messages go. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("logger is nil")
		}
		o.logger = l
		return nil
	}
}

// WithProgress sets a callback that gets per-region byte counts while blobs
// move. It is called from one goroutine at a time and must not block long.
// The default is no callback.
func WithProgress(f func(Progress)) Option {
	return func(o *options) error { o.progress = f; return nil }
}

// WithKeychain sets where credentials come from for registries whose
// inventory entry names no env vars. The default is authn.DefaultKeychain
// (docker config and credential helpers).
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("keychain is nil")
		}
		o.keychain = k
		return nil
	}
}

// WithTransport sets the base HTTP transport (authentication is added on
// top). The default is a clone of http.DefaultTransport with TLS verified.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return errors.New("transport is nil")
		}
		o.transport = rt
		return nil
	}
}

// WithGetenv sets how credential env vars are read. The default is os.Getenv.
func WithGetenv(f func(string) string) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("getenv is nil")
		}
		o.getenv = f
		return nil
	}
}

// WithRetry sets how many attempts a request or blob transfer gets (1 means
// no retry) and the backoff before the second attempt, doubling up to max.
// A Retry-After header longer than the backoff is honoured (up to a minute). The default is
// 5 attempts, 250ms doubling to 10s.
func WithRetry(attempts int, initial, max time.Duration) Option {
	return func(o *options) error {
		if attempts < 1 || initial < 0 || max < initial {
			return fmt.Errorf("retry %d, %v, %v: want attempts >= 1 and 0 <= initial <= max", attempts, initial, max)
		}
		o.attempts, o.backoff, o.maxBackoff = attempts, initial, max
		return nil
	}
}

// WithStallTimeout sets how long a registry may leave a request unanswered,
// or a transfer may move no bytes, before it counts as a connection error
// (and is retried or resumed). A hung region is then dropped from a fan-out
// instead of stalling the others. The default is 2 minutes.
func WithStallTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("stall timeout %v: want > 0", d)
		}
		o.stall = d
		return nil
	}
}

// WithPrevious gives Resolve the lock written by an earlier run: images it
// holds keep their digest, and a tag that now points elsewhere is a
// *TagMovedError. The default is no previous lock (everything resolves).
func WithPrevious(lock *inventory.Lock) Option {
	return func(o *options) error { o.previous = lock; return nil }
}

// WithRelock makes Resolve accept tags that moved since the previous lock
// (and a changed source registry), taking the current digests. The default
// is false.
func WithRelock(relock bool) Option {
	return func(o *options) error { o.relock = relock; return nil }
}

// done releases what the call made: idle connections of its own transport.
func (o *options) done() {
	if t, ok := o.transport.(*http.Transport); ok && o.ownTransport {
		t.CloseIdleConnections()
	}
}
