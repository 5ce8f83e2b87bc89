package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-dev/drover/internal/ctxsleep"
)

// Target is one webhook.
type Target struct {
	// Name says where the URL came from ("$SLACK_WEBHOOK_URL", "--notify"):
	// logs and errors name the webhook by it, never by its URL.
	Name string
	// URL is the webhook's address, token included. It is only ever sent to.
	URL    string
	Format Format
	// Events are the kinds sent to it; empty means all.
	Events []Kind
	// Insecure allows an http:// URL to a host other than loopback (the
	// inventory's insecure: true): its token then crosses the network in
	// clear. The default refuses it (CheckURL).
	Insecure bool
}

// Option configures a Notifier.
type Option func(*Notifier) error

// WithLogger logs failed deliveries (warn) and delivered ones (debug). The
// default discards.
func WithLogger(l *slog.Logger) Option {
	return func(n *Notifier) error {
		if l == nil {
			return errors.New("notify.WithLogger(nil)")
		}
		n.log = l
		return nil
	}
}

// WithClient sets the HTTP client. The default verifies TLS against the
// system's roots and follows no redirects (a redirected webhook would send
// the body somewhere else, perhaps over plain HTTP).
func WithClient(c *http.Client) Option {
	return func(n *Notifier) error {
		if c == nil {
			return errors.New("notify.WithClient(nil)")
		}
		n.client = c
		return nil
	}
}

// WithQueueSize bounds the events waiting per webhook; one more is dropped
// (and counted). The default is 100.
func WithQueueSize(size int) Option {
	return func(n *Notifier) error {
		if size < 1 {
			return fmt.Errorf("notify.WithQueueSize(%d): must be at least 1", size)
		}
		n.queueSize = size
		return nil
	}
}

// WithAttemptTimeout bounds one POST. The default is 10s.
func WithAttemptTimeout(d time.Duration) Option {
	return func(n *Notifier) error {
		if d <= 0 {
			return fmt.Errorf("notify.WithAttemptTimeout(%v): must be positive", d)
		}
		n.attemptTimeout = d
		return nil
	}
}

// WithRetries sets how many times a failed POST (network error, 5xx, 429)
// is retried, after 1s, 2s, 4s... (at most 30s; a 429's Retry-After when
// shorter). The default is 3.
func WithRetries(r int) Option {
	return func(n *Notifier) error {
		if r < 0 {
			return fmt.Errorf("notify.WithRetries(%d): must be 0 or more", r)
		}
		n.retries = r
		return nil
	}
}

const (
	firstBackoff = time.Second
	maxBackoff   = 30 * time.Second
)

// Notifier sends events to webhooks without ever blocking its caller.
type Notifier struct {
	log            *slog.Logger
	client         *http.Client
	queueSize      int
	attemptTimeout time.Duration
	retries        int

	hooks  []*webhook
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	failed atomic.Int64

	mu     sync.RWMutex
	closed bool
}

type webhook struct {
	Target
	queue chan Event
}

// New starts a Notifier over targets (none: every Send is a no-op). Close
// it at the end of the run.
func New(targets []Target, opts ...Option) (*Notifier, error) {
	n := &Notifier{
		log: slog.New(slog.DiscardHandler),
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		queueSize: 100, attemptTimeout: 10 * time.Second, retries: 3,
	}
	for _, o := range opts {
		if err := o(n); err != nil {
			return nil, err
		}
	}
	for i, t := range targets {
		if err := CheckURL(t.URL, t.Insecure); err != nil {
			// The URL is a secret: CheckURL says what is wrong, not what it is.
			return nil, fmt.Errorf("webhook %s: %w", nameOf(t, i), err)
		}
		if _, err := ParseFormat(string(t.Format)); err != nil {
			return nil, fmt.Errorf("webhook %s: %w", nameOf(t, i), err)
		}
		t.Name = nameOf(t, i)
		n.hooks = append(n.hooks, &webhook{Target: t, queue: make(chan Event, n.queueSize)})
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for _, h := range n.hooks {
		n.wg.Go(func() { n.loop(h) })
	}
	return n, nil
}

func nameOf(t Target, i int) string {
	if t.Name != "" {
		return t.Name
	}
	return "#" + strconv.Itoa(i+1)
}

// Send queues ev for every webhook that takes its kind and returns at once.
// A zero Time is set to now. After Close, Send drops ev (uncounted).
func (n *Notifier) Send(ev Event) {
	if n == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return
	}
	for _, h := range n.hooks {
		if len(h.Events) > 0 && !slices.Contains(h.Events, ev.Kind) {
			continue
		}
		select {
		case h.queue <- ev:
		default:
			n.fail(h, ev, fmt.Errorf("queue full (%d events waiting)", n.queueSize))
		}
	}
}

// Close sends what is queued until ctx ends, then abandons the rest (each
// counted and logged). It returns when every webhook's goroutine is done.
func (n *Notifier) Close(ctx context.Context) {
	if n == nil {
		return
	}
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		for _, h := range n.hooks {
			close(h.queue)
		}
	}
	n.mu.Unlock()
	stop := context.AfterFunc(ctx, n.cancel)
	defer stop()
	n.wg.Wait()
	n.cancel()
}

// Failed is how many deliveries failed (dropped, abandoned or refused).
func (n *Notifier) Failed() int {
	if n == nil {
		return 0
	}
	return int(n.failed.Load())
}

func (n *Notifier) fail(h *webhook, ev Event, err error) {
	n.failed.Add(1)
	n.log.Warn("notification not delivered", "webhook", h.Name, "event", string(ev.Kind), "err", redact(err, h.URL))
}

func (n *Notifier) loop(h *webhook) {
	for ev := range h.queue {
		if err := n.ctx.Err(); err != nil {
			n.fail(h, ev, errors.New("abandoned at the end of the run"))
			continue
		}
		if err := n.deliver(h, ev); err != nil {
			n.fail(h, ev, err)
			continue
		}
		n.log.Debug("notification delivered", "webhook", h.Name, "event", string(ev.Kind))
	}
}

// deliver posts ev, retrying what may pass on a second try.
func (n *Notifier) deliver(h *webhook, ev Event) error {
	b, err := body(h.Format, ev)
	if err != nil {
		return err
	}
	wait := firstBackoff
	for attempt := 0; ; attempt++ {
		retryAfter, err := n.post(h, b)
		if err == nil {
			return nil
		}
		if retryAfter < 0 || attempt == n.retries {
			return err
		}
		d := min(wait, maxBackoff)
		if retryAfter > 0 {
			d = min(retryAfter, maxBackoff)
		}
		wait *= 2
		if ctxsleep.Sleep(n.ctx, d) != nil {
			return fmt.Errorf("%w (abandoned at the end of the run)", err)
		}
	}
}

// post makes one attempt. retryAfter is -1 when retrying cannot help, else
// the server's Retry-After (0 when none).
func (n *Notifier) post(h *webhook, b []byte) (retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(b))
	if err != nil {
		return -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "drover-notify")
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	err = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			return time.Duration(s) * time.Second, err
		}
		return 0, err
	case resp.StatusCode >= 500:
		return 0, err
	}
	return -1, err
}

// redact drops the URL a *url.Error carries and any other copy of rawURL
// (or of its query, where tokens often are).
func redact(err error, rawURL string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	s := err.Error()
	if rawURL != "" {
		s = strings.ReplaceAll(s, rawURL, "<webhook url>")
		if u, perr := url.Parse(rawURL); perr == nil {
			if u.Path != "" && u.Path != "/" {
				s = strings.ReplaceAll(s, u.Path, "<webhook path>")
			}
			if u.RawQuery != "" {
				s = strings.ReplaceAll(s, u.RawQuery, "<webhook query>")
			}
		}
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
