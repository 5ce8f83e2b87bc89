package netem

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// Listen opens a TCP listener on addr (use "127.0.0.1:0" for a free port)
// whose state follows f.Down: while down, the port is closed, so new
// connections are refused; when up again it listens on the same port.
// Accept blocks while down. Closing the returned listener ends it for good.
func (f *Faults) Listen(addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &listener{addr: ln.Addr(), ln: ln, wake: make(chan struct{})}
	f.mu.Lock()
	f.listeners = append(f.listeners, l)
	down := f.down
	f.mu.Unlock()
	if down {
		l.setDown(true)
	}
	return l, nil
}

// listener is a net.Listener that can be switched off and on.
type listener struct {
	addr net.Addr

	mu     sync.Mutex
	ln     net.Listener  // nil while down
	wake   chan struct{} // closed and replaced on every state change
	closed bool
	err    error // last reopen error
}

func (l *listener) Addr() net.Addr { return l.addr }

func (l *listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		ln, wake, closed, reopenErr := l.ln, l.wake, l.closed, l.err
		l.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		if ln == nil && reopenErr != nil {
			return nil, reopenErr
		}
		if ln == nil {
			<-wake
			continue
		}
		c, err := ln.Accept()
		if err == nil {
			return c, nil
		}
		l.mu.Lock()
		switched := l.ln != ln || l.closed
		l.mu.Unlock()
		if !switched {
			return nil, err
		}
	}
}

func (l *listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var err error
	if l.ln != nil {
		err = l.ln.Close()
		l.ln = nil
	}
	close(l.wake)
	l.wake = make(chan struct{})
	return err
}

// setDown closes or reopens the port.
func (l *listener) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	switch {
	case down && l.ln != nil:
		l.ln.Close()
		l.ln = nil
	case !down && l.ln == nil:
		var lc net.ListenConfig
		ln, err := lc.Listen(context.Background(), "tcp", l.addr.String())
		if err != nil {
			l.err = fmt.Errorf("netem: reopen %s: %w", l.addr, err)
			close(l.wake)
			l.wake = make(chan struct{})
			return
		}
		l.ln = ln
	default:
		return
	}
	close(l.wake)
	l.wake = make(chan struct{})
}
