package netem

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// Link describes one network path. The zero Link is unshaped.
type Link struct {
	// BytesPerSec caps throughput; 0 means unlimited.
	BytesPerSec int64
	// Latency is added once per request (a round trip); 0 means none.
	Latency time.Duration
}

// Shaped reports whether l changes anything.
func (l Link) Shaped() bool { return l.BytesPerSec > 0 || l.Latency > 0 }

// Reader returns r throttled to l.BytesPerSec with its own budget. Reads
// wait (on timers, honouring ctx) so that bytes are delivered no faster than
// the link allows; a cancelled ctx makes the next Read return ctx.Err().
// Latency is not applied by Reader. An unshaped Link returns r itself.
func (l Link) Reader(ctx context.Context, r io.Reader) io.Reader {
	if l.BytesPerSec <= 0 {
		return r
	}
	return &reader{ctx: ctx, r: r, b: newBucket(l.BytesPerSec)}
}

// Handler returns h behind l: each request waits l.Latency before h runs,
// response bodies are throttled to l.BytesPerSec and so are request bodies
// (uploads), each direction with one budget shared by all requests through
// the returned handler.
func Handler(h http.Handler, l Link) http.Handler {
	if !l.Shaped() {
		return h
	}
	down, up := newBucket(l.BytesPerSec), newBucket(l.BytesPerSec)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := sleep(ctx, l.Latency); err != nil {
			return
		}
		if up != nil && r.Body != nil && r.Body != http.NoBody {
			r.Body = readCloser{&reader{ctx: ctx, r: r.Body, b: up}, r.Body}
		}
		if down != nil {
			w = &throttledWriter{ResponseWriter: w, ctx: ctx, b: down}
		}
		h.ServeHTTP(w, r)
	})
}

// Transport returns rt behind l: each round trip waits l.Latency first,
// request bodies and response bodies are throttled to l.BytesPerSec, each
// direction with one budget shared by all requests through the returned
// transport. A nil rt means http.DefaultTransport.
func Transport(rt http.RoundTripper, l Link) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	if !l.Shaped() {
		return rt
	}
	return &transport{rt: rt, l: l, down: newBucket(l.BytesPerSec), up: newBucket(l.BytesPerSec)}
}

type transport struct {
	rt       http.RoundTripper
	l        Link
	down, up *bucket
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := sleep(ctx, t.l.Latency); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if t.up != nil && req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(ctx)
		req.Body = readCloser{&reader{ctx: ctx, r: req.Body, b: t.up}, req.Body}
	}
	resp, err := t.rt.RoundTrip(req)
	if err != nil || t.down == nil {
		return resp, err
	}
	resp.Body = readCloser{&reader{ctx: ctx, r: resp.Body, b: t.down}, resp.Body}
	return resp, nil
}

// bucket hands out transmission slots: reserve(n) says how long the caller
// must wait before n more bytes have "crossed" the link. Reservations are
// serialised, so concurrent users share the rate. Unused time is banked up
// to backlog (a link's queue keeps draining while a sender is a little
// late: a timer that fires 1 ms late must not cost a busy link 1 ms), but
// no further, so an idle link does not allow a later burst.
type bucket struct {
	rate int64
	mu   sync.Mutex
	next time.Time
}

// newBucket returns nil for an unlimited rate.
func newBucket(rate int64) *bucket {
	if rate <= 0 {
		return nil
	}
	return &bucket{rate: rate}
}

// chunk is the most bytes handed out per reservation: about 1/50 s of
// transfer, at least 1 KiB, at most 64 KiB, so waits are short and smooth.
func (b *bucket) chunk() int {
	c := b.rate / 50
	return int(min(max(c, 1<<10), 64<<10))
}

// backlog is the most unused link time a late sender gets back: about a
// NIC queue's worth. Without it, every timer overshoot on a busy machine
// was lost link time, and one stream reached a quarter of a 100 MB/s link
// (measured: 27.7 MB/s with none, 60-100 MB/s with 10 ms).
const backlog = 10 * time.Millisecond

func (b *bucket) reserve(n int) time.Duration {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next.IsZero() { // a fresh link has banked nothing
		b.next = now
	}
	if floor := now.Add(-backlog); b.next.Before(floor) {
		b.next = floor
	}
	b.next = b.next.Add(time.Duration(float64(n) / float64(b.rate) * float64(time.Second)))
	return b.next.Sub(now)
}

func (b *bucket) wait(ctx context.Context, n int) error {
	return sleep(ctx, b.reserve(n))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type reader struct {
	ctx context.Context
	r   io.Reader
	b   *bucket
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if c := r.b.chunk(); len(p) > c {
		p = p[:c]
	}
	n, err := r.r.Read(p)
	if n > 0 {
		if werr := r.b.wait(r.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}

type readCloser struct {
	io.Reader
	io.Closer
}

// throttledWriter paces response body writes.
type throttledWriter struct {
	http.ResponseWriter
	ctx context.Context
	b   *bucket
}

func (w *throttledWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), w.b.chunk())
		if err := w.b.wait(w.ctx, n); err != nil {
			return written, err
		}
		m, err := w.ResponseWriter.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *throttledWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush forwards to the underlying writer when it can flush.
func (w *throttledWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
