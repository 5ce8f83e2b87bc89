package rancher

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Client. Options validate their argument: New returns
// the error of the first invalid one.
type Option func(*options) error

type options struct {
	httpClient     *http.Client
	caFile         string
	logger         *slog.Logger
	pollInterval   time.Duration // 0: default, depends on events
	events         bool
	requestTimeout time.Duration
	readTimeout    time.Duration // websocket: no message at all for this long = dead
	idleGrace      time.Duration // keep a project's websocket this long after its last waiter
	backoffMin     time.Duration
	backoffMax     time.Duration
}

func defaultOptions() options {
	return options{
		logger:         slog.New(slog.DiscardHandler),
		events:         true,
		requestTimeout: 30 * time.Second,
		readTimeout:    20 * time.Second,
		idleGrace:      2 * time.Second,
		backoffMin:     250 * time.Millisecond,
		backoffMax:     10 * time.Second,
	}
}

// Default poll intervals of WaitFor.
const (
	// DefaultPollInterval is the first fallback poll while the event stream
	// is on: a wait re-reads after this long without a read, then after
	// twice that, and so on up to DefaultPollIntervalMax, back to the start
	// after every reconnect. Events carry the changes; the poll only catches
	// one the stream lost (the rancher CLI's --wait re-polls every 10s too).
	DefaultPollInterval = 10 * time.Second
	// DefaultPollIntervalMax caps the fallback poll's backoff.
	DefaultPollIntervalMax = time.Minute
	// DefaultPollIntervalNoEvents is the poll when WithEventStream(false).
	DefaultPollIntervalNoEvents = time.Second
)

// WithHTTPClient sets the HTTP client for every request and the websocket
// handshake. Its Timeout must be zero (the websocket is long-lived; requests
// are bounded by WithRequestTimeout). It cannot be combined with WithCAFile.
// The default is a client with its own clone of http.DefaultTransport,
// verifying TLS.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		if hc.Timeout != 0 {
			return errors.New("WithHTTPClient: client Timeout must be 0 (use WithRequestTimeout)")
		}
		o.httpClient = hc
		return nil
	}
}

// WithCAFile adds the PEM certificates in path to the system roots used to
// verify the server. The default is the system roots only. TLS verification
// cannot be turned off.
func WithCAFile(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("WithCAFile: empty path")
		}
		o.caFile = path
		return nil
	}
}

// WithLogger sets the logger for debug-level request and event-stream logs.
// Secrets and request bodies are never logged. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithPollInterval sets how often WaitFor re-reads the resource, whether the
// event stream is up or not. By default it depends: while the websocket is
// connected, 10s doubling up to a minute (DefaultPollInterval,
// DefaultPollIntervalMax: only a fallback then), 1s while it is down or off
// (DefaultPollIntervalNoEvents). It must be at least 10ms.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) error {
		if d < 10*time.Millisecond {
			return fmt.Errorf("WithPollInterval: %v is below 10ms", d)
		}
		o.pollInterval = d
		return nil
	}
}

// WithEventStream turns the subscribe websocket used by WaitFor on or off.
// Off, WaitFor only polls. The default is on.
func WithEventStream(on bool) Option {
	return func(o *options) error {
		o.events = on
		return nil
	}
}

// WithRequestTimeout bounds each API request (not WaitFor, whose bound is
// its context). The default is 30s.
func WithRequestTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithRequestTimeout: %v is not positive", d)
		}
		o.requestTimeout = d
		return nil
	}
}

// withStreamTiming is for tests: the websocket silence timeout and the
// reconnect backoff bounds.
func withStreamTiming(read, backoffMin, backoffMax, grace time.Duration) Option {
	return func(o *options) error {
		o.readTimeout, o.backoffMin, o.backoffMax, o.idleGrace = read, backoffMin, backoffMax, grace
		return nil
	}
}
