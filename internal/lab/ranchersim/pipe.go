package ranchersim

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// Pipe is an in-memory net.Listener whose connections are net.Pipe pairs, so a server
// and its clients can run inside a testing/synctest bubble. Create it with
// [PipeListener]; clients connect with [Pipe.Client] or [Pipe.DialContext].
type Pipe struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// PipeListener returns a new in-memory listener.
func PipeListener() *Pipe {
	return &Pipe{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for the next connection.
func (p *Pipe) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; established connections are not closed.
func (p *Pipe) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

// Addr returns a placeholder address ("pipe").
func (p *Pipe) Addr() net.Addr { return pipeAddr{} }

// DialContext connects to the listener; network and address are ignored.
func (p *Pipe) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case p.conns <- server:
		return client, nil
	case <-p.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Client returns an HTTP client whose connections go through the pipe. Call its
// CloseIdleConnections when done.
func (p *Pipe) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: p.DialContext, DisableCompression: true}}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
