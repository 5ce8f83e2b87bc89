package netem

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestReaderThrottles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rate int64
		size int
		want time.Duration
	}{
		{"100KiB at 10KiB/s", 10 << 10, 100 << 10, 10 * time.Second},
		{"1MiB at 1MiB/s", 1 << 20, 1 << 20, time.Second},
		{"tiny", 1000, 10, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				r := Link{BytesPerSec: tt.rate}.Reader(t.Context(), bytes.NewReader(make([]byte, tt.size)))
				n, err := io.Copy(io.Discard, r)
				if err != nil || n != int64(tt.size) {
					t.Fatalf("copy = %d, %v; want %d", n, err, tt.size)
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("took %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestReaderUnshapedIsIdentity(t *testing.T) {
	t.Parallel()
	r := bytes.NewReader(nil)
	if got := (Link{Latency: time.Second}).Reader(t.Context(), r); got != r {
		t.Errorf("Reader without a rate wrapped the reader")
	}
}

func TestReaderHonoursContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		r := Link{BytesPerSec: 1 << 10}.Reader(ctx, bytes.NewReader(make([]byte, 10<<10)))
		n, err := io.Copy(io.Discard, r)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want deadline exceeded", err)
		}
		if n > 3<<10 {
			t.Errorf("read %d bytes in 2s at 1KiB/s", n)
		}
	})
}

// serve runs h for one GET and returns the body length.
func serve(t *testing.T, h http.Handler) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v2/app/blobs/sha256:x", nil))
	return rec.Body.Len()
}

func TestHandlerLatencyAndSharedBandwidth(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		body := make([]byte, 100<<10)
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
		h := Handler(inner, Link{BytesPerSec: 100 << 10, Latency: 50 * time.Millisecond})

		start := time.Now()
		if n := serve(t, h); n != len(body) {
			t.Fatalf("body = %d bytes", n)
		}
		if got, want := time.Since(start), time.Second+50*time.Millisecond; got != want {
			t.Errorf("one request took %v, want %v", got, want)
		}

		// Two concurrent requests share the link: both done after ~2 s.
		start = time.Now()
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { serve(t, h) })
		}
		wg.Wait()
		if got, want := time.Since(start), 2*time.Second+50*time.Millisecond; got < want-50*time.Millisecond || got > want {
			t.Errorf("two concurrent requests took %v, want about %v", got, want)
		}
	})
}

func TestHandlerThrottlesUploads(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var got int64
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = io.Copy(io.Discard, r.Body) })
		h := Handler(inner, Link{BytesPerSec: 10 << 10})
		start := time.Now()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPut, "/", bytes.NewReader(make([]byte, 50<<10)))
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got != 50<<10 {
			t.Errorf("handler read %d bytes", got)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("upload took %v, want 5s", d)
		}
	})
}

type fakeRT struct{ body []byte }

func (f fakeRT) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(f.body)), Request: r}, nil
}

func TestTransport(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rt := Transport(fakeRT{make([]byte, 20<<10)}, Link{BytesPerSec: 10 << 10, Latency: 100 * time.Millisecond})
		start := time.Now()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://x/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("latency = %v, want 100ms", d)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != 20<<10 {
			t.Errorf("body = %d", n)
		}
		if d := time.Since(start); d != 2100*time.Millisecond {
			t.Errorf("total = %v, want 2.1s", d)
		}
	})
	if Transport(nil, Link{}) != http.DefaultTransport {
		t.Errorf("unshaped Transport(nil) is not http.DefaultTransport")
	}
}

// TestBucketBanksALateSendersTime: a sender that comes back late (its
// timer overshot) gets up to backlog of the link time it missed, and no
// more, so an idle link allows no burst beyond that.
func TestBucketBanksALateSendersTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBucket(1 << 20) // 1 MiB/s: 1 KiB takes ~0.98 ms
		if d := b.reserve(1 << 10); d < 900*time.Microsecond {
			t.Fatalf("first KiB: wait %v, want ~1 ms", d)
		}
		time.Sleep(3 * time.Millisecond) // late by ~2 ms
		if d := b.reserve(1 << 10); d > 0 {
			t.Errorf("a sender 2 ms late waits %v for 1 KiB; the link had drained it meanwhile", d)
		}
		time.Sleep(time.Second) // idle: only backlog is banked
		var sent int
		for b.reserve(1<<10) <= 0 {
			sent += 1 << 10
		}
		if limit := int(backlog.Seconds()*(1<<20)) + 1<<10; sent > limit {
			t.Errorf("after 1 s idle, %d bytes passed without a wait; want at most the backlog's %d", sent, limit)
		}
	})
}
