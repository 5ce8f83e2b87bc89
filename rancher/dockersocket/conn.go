package dockersocket

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// maxWrite is the most raw bytes sent in one websocket message.
const maxWrite = 32 << 10

// conn is a net.Conn over a dockersocket websocket: each message is a TEXT frame
// holding the standard base64 of a chunk of the stream, in both directions
// (rancher-docker-api-proxy websocket.go). A deadline that passes during a Read or
// Write closes the websocket (coder/websocket closes on any context expiry).
type conn struct {
	ws   *websocket.Conn
	addr addr

	readMu  sync.Mutex
	pending []byte
	got     bool // some bytes came from dockerd
	eof     bool

	writeMu sync.Mutex

	rd, wd    deadline
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

func newConn(ws *websocket.Conn, host string) *conn {
	c := &conn{ws: ws, addr: addr(host), closed: make(chan struct{})}
	c.rd.init()
	c.wd.init()
	return c
}

func (c *conn) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	for len(c.pending) == 0 {
		if c.eof {
			return 0, io.EOF
		}
		if err := c.isClosed(); err != nil {
			return 0, err
		}
		ctx := c.rd.context()
		typ, msg, err := c.ws.Read(ctx)
		if err != nil {
			return 0, c.readErr(ctx, err)
		}
		if typ != websocket.MessageText {
			_ = c.ws.Close(websocket.StatusUnsupportedData, "want base64 text frames")
			return 0, fmt.Errorf("dockersocket: %w: got a binary frame, want base64 text", ErrRelayClosed)
		}
		b, err := base64.StdEncoding.DecodeString(string(msg))
		if err != nil {
			_ = c.ws.Close(websocket.StatusInvalidFramePayloadData, "bad base64")
			return 0, fmt.Errorf("dockersocket: %w: a frame is not base64: %w", ErrRelayClosed, err)
		}
		c.pending = b
	}
	c.got = true
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *conn) readErr(ctx context.Context, err error) error {
	if e := c.isClosed(); e != nil {
		return e
	}
	if ctx.Err() != nil {
		return fmt.Errorf("dockersocket: read: %w", os.ErrDeadlineExceeded)
	}
	if st := websocket.CloseStatus(err); st == websocket.StatusNormalClosure || st == websocket.StatusGoingAway {
		if c.got {
			c.eof = true
			return io.EOF
		}
		return fmt.Errorf("dockersocket: %w before dockerd answered (is the host's agent connected?)", ErrRelayClosed)
	}
	// The library's error may wrap io.EOF, which readers such as the moby
	// client's JSON stream take for a clean end: keep only its text.
	if c.got {
		return fmt.Errorf("dockersocket: %w mid-stream: %s", ErrRelayClosed, err.Error())
	}
	return fmt.Errorf("dockersocket: %w before dockerd answered: %s", ErrRelayClosed, err.Error())
}

func (c *conn) Write(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.isClosed(); err != nil {
		return 0, err
	}
	ctx := c.wd.context()
	n := 0
	for n < len(p) {
		chunk := p[n:min(len(p), n+maxWrite)]
		if err := c.ws.Write(ctx, websocket.MessageText, []byte(base64.StdEncoding.EncodeToString(chunk))); err != nil {
			if e := c.isClosed(); e != nil {
				return n, e
			}
			if ctx.Err() != nil {
				return n, fmt.Errorf("dockersocket: write: %w", os.ErrDeadlineExceeded)
			}
			return n, fmt.Errorf("dockersocket: %w: write: %s", ErrRelayClosed, err.Error())
		}
		n += len(chunk)
	}
	return n, nil
}

// Close closes the websocket (a normal closure; the relay then closes dockerd's side).
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.rd.stop()
		c.wd.stop()
		err := c.ws.Close(websocket.StatusNormalClosure, "")
		if err != nil && !errors.Is(err, net.ErrClosed) && websocket.CloseStatus(err) == -1 {
			c.closeErr = err
		}
	})
	return c.closeErr
}

func (c *conn) isClosed() error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
		return nil
	}
}

func (c *conn) LocalAddr() net.Addr  { return addr("local") }
func (c *conn) RemoteAddr() net.Addr { return c.addr }

func (c *conn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}
func (c *conn) SetReadDeadline(t time.Time) error  { c.rd.set(t); return nil }
func (c *conn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

// addr names the Rancher server a websocket goes to.
type addr string

func (a addr) Network() string { return "dockersocket" }
func (a addr) String() string  { return string(a) }

// deadline is a context that a timer cancels when the deadline passes. Setting a
// new deadline re-arms the same context unless it already expired.
type deadline struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
}

func (d *deadline) init() {
	d.ctx, d.cancel = context.WithCancel(context.Background())
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.ctx.Err() != nil {
		d.ctx, d.cancel = context.WithCancel(context.Background())
	}
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		d.cancel()
		return
	}
	d.timer = time.AfterFunc(dur, d.cancel)
}

func (d *deadline) context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx
}

func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.cancel()
}
