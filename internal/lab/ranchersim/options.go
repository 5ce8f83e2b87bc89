package ranchersim

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Option configures a [Server].
type Option func(*options) error

type options struct {
	listener      net.Listener
	addr          string
	logger        *slog.Logger
	eventPeriod   time.Duration
	pingPeriod    time.Duration
	subLifetime   time.Duration
	healthTimeout time.Duration
	retryDelay    time.Duration
	healthDelay   time.Duration
	accountKeys   []Keys
	tokenTTL      time.Duration
	dockerAt      func(hostName string) DockerDialFunc
}

func defaultOptions() options {
	return options{
		addr:          "127.0.0.1:0",
		logger:        slog.New(slog.DiscardHandler),
		eventPeriod:   time.Second,
		pingPeriod:    5 * time.Second,
		subLifetime:   12 * time.Hour,
		healthTimeout: 45 * time.Second,
		retryDelay:    5 * time.Second,
	}
}

// WithListener serves on l instead of a fresh TCP listener on 127.0.0.1. Combined with
// [PipeListener] it lets a test run the server inside a testing/synctest bubble.
// [Server.Restart] is not available with a custom listener.
func WithListener(l net.Listener) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithListener: nil listener")
		}
		o.listener = l
		return nil
	}
}

// WithAddr sets the TCP address to listen on. The default is "127.0.0.1:0" (a free port).
func WithAddr(addr string) Option {
	return func(o *options) error {
		if addr == "" {
			return errors.New("WithAddr: empty address")
		}
		o.addr = addr
		return nil
	}
}

// WithLogger sets the logger. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithEventPeriod sets how often merged resource.change events are published.
// The default is 1s, like real Rancher.
func WithEventPeriod(d time.Duration) Option {
	return positive("WithEventPeriod", d, func(o *options) { o.eventPeriod = d })
}

// WithPingPeriod sets how often a ping event is sent to subscribers. The default is 5s.
func WithPingPeriod(d time.Duration) Option {
	return positive("WithPingPeriod", d, func(o *options) { o.pingPeriod = d })
}

// WithSubscriptionLifetime sets after how long the server ends a subscribe websocket
// (with a normal close), forcing clients to reconnect. The default is 12h, like Cattle.
func WithSubscriptionLifetime(d time.Duration) Option {
	return positive("WithSubscriptionLifetime", d, func(o *options) { o.subLifetime = d })
}

// WithHealthTimeout sets how long an upgrade waits for the service to become healthy
// before the process is retried. The default is 45s, like Cattle.
func WithHealthTimeout(d time.Duration) Option {
	return positive("WithHealthTimeout", d, func(o *options) { o.healthTimeout = d })
}

// WithRetryDelay sets how long a failed process (pull failure, no eligible host, health
// timeout) waits before it is retried. The default is 5s.
func WithRetryDelay(d time.Duration) Option {
	return positive("WithRetryDelay", d, func(o *options) { o.retryDelay = d })
}

// WithHealthDelay overrides how long every container with a health check stays
// "initializing" after it starts. By default the delay is the launch config's
// healthCheck.interval (default 2000 ms) times healthCheck.healthyThreshold (default 2).
func WithHealthDelay(d time.Duration) Option {
	return positive("WithHealthDelay", d, func(o *options) { o.healthDelay = d })
}

// WithAccountKeys adds account (admin) API keys that reach every project, through
// /v2-beta/projects and the account-level collections. There are none by default.
func WithAccountKeys(k Keys) Option {
	return func(o *options) error {
		if k.Access == "" || k.Secret == "" {
			return errors.New("WithAccountKeys: access and secret key required")
		}
		o.accountKeys = append(o.accountKeys, k)
		return nil
	}
}

func positive(name string, d time.Duration, set func(*options)) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("%s: %v is not positive", name, d)
		}
		set(o)
		return nil
	}
}
