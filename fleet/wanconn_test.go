package fleet

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// wanDial returns a dial function whose connections behave as if the peer
// were rtt away: the TCP connect takes one round trip when connect is set,
// and every byte in either direction arrives rtt/2 after it was sent (the
// writer does not wait, as with a kernel's socket buffer). Only the
// benchmarks use it; deadlines are passed to the real connection and not
// applied to bytes in flight (neither net/http's client nor the websocket
// library sets any).
func wanDial(dial func(ctx context.Context, network, addr string) (net.Conn, error), rtt time.Duration, connect bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if connect {
			t := time.NewTimer(rtt)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
		}
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return newWANConn(c, rtt/2), nil
	}
}

// netDial is a plain TCP dial for wanDial.
func netDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

type wanChunk struct {
	data []byte
	at   time.Time // when it was sent
	err  error
}

// wanConn delays each direction of a connection by oneWay.
type wanConn struct {
	net.Conn
	oneWay time.Duration

	in      chan wanChunk // read from the peer, delivered at at+oneWay
	readMu  sync.Mutex
	pending []byte
	rerr    error

	out       chan wanChunk // written, sent to the peer at at+oneWay
	writeMu   sync.Mutex
	closed    chan struct{}
	closeOnce sync.Once
}

func newWANConn(c net.Conn, oneWay time.Duration) *wanConn {
	w := &wanConn{Conn: c, oneWay: oneWay, in: make(chan wanChunk, 256), out: make(chan wanChunk, 256), closed: make(chan struct{})}
	go w.readLoop()
	go w.writeLoop()
	return w
}

func (w *wanConn) readLoop() {
	for {
		buf := make([]byte, 32<<10)
		n, err := w.Conn.Read(buf)
		w.in <- wanChunk{data: buf[:n], at: time.Now(), err: err}
		if err != nil {
			close(w.in)
			return
		}
	}
}

func (w *wanConn) writeLoop() {
	defer w.Conn.Close()
	for c := range w.out {
		time.Sleep(time.Until(c.at.Add(w.oneWay)))
		if _, err := w.Conn.Write(c.data); err != nil {
			for range w.out { // drop the rest; Close ends the loop
			}
			return
		}
	}
}

func (w *wanConn) Read(p []byte) (int, error) {
	w.readMu.Lock()
	defer w.readMu.Unlock()
	for len(w.pending) == 0 {
		if w.rerr != nil {
			return 0, w.rerr
		}
		var c wanChunk
		var ok bool
		select {
		case c, ok = <-w.in:
		case <-w.closed:
			return 0, net.ErrClosed
		}
		if !ok {
			return 0, net.ErrClosed
		}
		time.Sleep(time.Until(c.at.Add(w.oneWay)))
		w.pending, w.rerr = c.data, c.err
	}
	n := copy(p, w.pending)
	w.pending = w.pending[n:]
	return n, nil
}

func (w *wanConn) Write(p []byte) (int, error) {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	select {
	case <-w.closed:
		return 0, net.ErrClosed
	default:
	}
	w.out <- wanChunk{data: append([]byte(nil), p...), at: time.Now()}
	return len(p), nil
}

// Close stops reads at once; what was written still reaches the peer, then
// the connection closes.
func (w *wanConn) Close() error {
	w.closeOnce.Do(func() {
		w.writeMu.Lock()
		close(w.closed)
		close(w.out)
		w.writeMu.Unlock()
		go func() { // let readLoop end once the connection is closed
			for range w.in {
			}
		}()
	})
	return nil
}

// TestWANConn: each direction arrives one way (rtt/2) after it was sent, and
// Close still delivers what was written.
func TestWANConn(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		near, far := net.Pipe()
		w := newWANConn(near, time.Millisecond)
		start := time.Now()
		if _, err := w.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(far, buf); err != nil || string(buf) != "ping" || time.Since(start) != time.Millisecond {
			t.Fatalf("peer read %q, %v after %v; want ping after 1ms", buf, err, time.Since(start))
		}
		go func() { _, _ = far.Write([]byte("pong")) }()
		if _, err := io.ReadFull(w, buf); err != nil || string(buf) != "pong" || time.Since(start) != 2*time.Millisecond {
			t.Fatalf("read %q, %v after %v; want pong after 2ms", buf, err, time.Since(start))
		}
		if _, err := w.Write([]byte("bye!")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(far, buf); err != nil || string(buf) != "bye!" || time.Since(start) != 3*time.Millisecond {
			t.Fatalf("peer read %q, %v after %v; want bye! after 3ms", buf, err, time.Since(start))
		}
		if _, err := far.Read(buf); !errors.Is(err, io.EOF) {
			t.Errorf("peer read after the close: %v, want EOF", err)
		}
		_ = far.Close()
	})
}
