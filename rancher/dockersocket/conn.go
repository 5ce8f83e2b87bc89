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
	"sync/atomic"
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
	ws    *websocket.Conn
	addr  addr
	check func(context.Context) error // see Dialer.Check; nil: none

	readMu  sync.Mutex
	pending []byte // decoded bytes not yet read, in dec
	msg     []byte // the last message as received (base64), reused
	dec     []byte // its decoded bytes, reused
	eof     bool

	writeMu sync.Mutex
	enc     []byte // the base64 of a chunk being written, reused

	rd, wd    deadline
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error

	got atomic.Bool // some bytes came from dockerd
}

func newConn(ws *websocket.Conn, host string, check func(context.Context) error) *conn {
	c := &conn{ws: ws, addr: addr(host), check: check, closed: make(chan struct{})}
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
		msg, err := c.readMessage(ctx)
		if err != nil {
			return 0, err
		}
		// Decode straight into p when it holds the whole chunk (the HTTP
		// client reads through a 4 KiB buffer; the agent sends <= 1 KiB).
		if base64.StdEncoding.DecodedLen(len(msg)) <= len(p) {
			n, err := base64.StdEncoding.Decode(p, msg)
			if err != nil {
				return 0, c.badBase64(err)
			}
			if n > 0 {
				c.got.Store(true)
				return n, nil
			}
			continue
		}
		c.dec = grow(c.dec, base64.StdEncoding.DecodedLen(len(msg)))
		n, err := base64.StdEncoding.Decode(c.dec, msg)
		if err != nil {
			return 0, c.badBase64(err)
		}
		c.pending = c.dec[:n]
	}
	c.got.Store(true)
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// readMessage reads the next websocket message into c.msg, which it reuses:
// a TEXT frame, or an error that closes the websocket.
func (c *conn) readMessage(ctx context.Context) ([]byte, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		return nil, c.readErr(ctx, err)
	}
	if typ != websocket.MessageText {
		_ = c.ws.Close(websocket.StatusUnsupportedData, "want base64 text frames")
		return nil, fmt.Errorf("dockersocket: %w: got a binary frame, want base64 text", ErrRelayClosed)
	}
	msg := c.msg[:0]
	for {
		if len(msg) == cap(msg) {
			msg = append(msg, 0)[:len(msg)] // let append pick the next capacity
		}
		n, err := r.Read(msg[len(msg):cap(msg)])
		msg = msg[:len(msg)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			c.msg = msg[:0]
			return nil, c.readErr(ctx, err)
		}
	}
	c.msg = msg[:0]
	return msg, nil
}

func (c *conn) badBase64(err error) error {
	_ = c.ws.Close(websocket.StatusInvalidFramePayloadData, "bad base64")
	return fmt.Errorf("dockersocket: %w: a frame is not base64: %w", ErrRelayClosed, err)
}

// grow returns b with length n, reusing its array when it is large enough.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func (c *conn) readErr(ctx context.Context, err error) error {
	if e := c.isClosed(); e != nil {
		return e
	}
	if ctx.Err() != nil {
		return fmt.Errorf("dockersocket: read: %w", os.ErrDeadlineExceeded)
	}
	if st := websocket.CloseStatus(err); st == websocket.StatusNormalClosure || st == websocket.StatusGoingAway {
		if c.got.Load() {
			c.eof = true
			return io.EOF
		}
		if e := c.checkHost(); e != nil {
			return e
		}
		return fmt.Errorf("dockersocket: %w before dockerd answered (is the host's agent connected?)", ErrRelayClosed)
	}
	// The library's error may wrap io.EOF, which readers such as the moby
	// client's JSON stream take for a clean end: keep only its text.
	if c.got.Load() {
		return fmt.Errorf("dockersocket: %w mid-stream: %s", ErrRelayClosed, err.Error())
	}
	if e := c.checkHost(); e != nil {
		return e
	}
	return fmt.Errorf("dockersocket: %w before dockerd answered: %s", ErrRelayClosed, err.Error())
}

// checkTimeout bounds Dialer.Check.
const checkTimeout = 10 * time.Second

// checkHost asks Dialer.Check why the relay closed before dockerd answered
// (an agent that went away since the host was read): its error, or nil.
func (c *conn) checkHost() error {
	if c.check == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	if err := c.check(ctx); err != nil {
		return &redacted{msg: "dockersocket: " + err.Error(), errs: unwrapSafe(err)}
	}
	return nil
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
		c.enc = grow(c.enc, base64.StdEncoding.EncodedLen(len(chunk)))
		base64.StdEncoding.Encode(c.enc, chunk)
		if err := c.ws.Write(ctx, websocket.MessageText, c.enc); err != nil {
			if e := c.isClosed(); e != nil {
				return n, e
			}
			if ctx.Err() != nil {
				return n, fmt.Errorf("dockersocket: write: %w", os.ErrDeadlineExceeded)
			}
			if !c.got.Load() {
				if e := c.checkHost(); e != nil {
					return n, e
				}
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
