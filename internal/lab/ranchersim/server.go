package ranchersim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrClosed is returned by operations on a closed [Server].
var ErrClosed = errors.New("ranchersim: server closed")

// Server is a simulated Rancher 1.6 server. Create it with [Start].
type Server struct {
	opts   options
	ctx    context.Context // lifetime of processes and subscriptions
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the server starts

	mu           sync.Mutex
	closed       bool
	ids          map[string]int
	createIndex  int
	projects     []*Project
	changed      chan struct{} // closed and replaced on every model change
	dirty        []any         // resources changed since the last publish, in order
	dirtySet     map[any]int64 // resource -> sequence number of its last change
	seq          int64
	subs         map[*subscriber]bool
	failN        int
	failStatus   int
	failAction   int
	neverHealthy []string // image reference globs
	neverSvcs    []string // service name globs
	ha           hostAccess

	srvMu   sync.Mutex // guards the HTTP server and listener across Restart
	httpSrv *http.Server
	ln      net.Listener
	addr    string
	custom  bool
}

// Start starts a server on 127.0.0.1 (or on the [WithListener] listener). ctx bounds
// the startup only; the server runs until [Server.Close].
func Start(ctx context.Context, opts ...Option) (*Server, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("ranchersim: %w", err)
		}
	}
	s := &Server{opts: o, changed: make(chan struct{}), dirtySet: map[any]int64{}, subs: map[*subscriber]bool{}}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	ln := o.listener
	if ln == nil {
		var lc net.ListenConfig
		var err error
		ln, err = lc.Listen(ctx, "tcp", o.addr)
		if err != nil {
			s.cancel()
			return nil, fmt.Errorf("ranchersim: listen on %s: %w", o.addr, err)
		}
	} else {
		s.custom = true
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	s.wg.Add(1)
	go s.publishLoop()
	return s, nil
}

// serve starts an HTTP server on ln. Called with srvMu held or before the server is shared.
func (s *Server) serve(ln net.Listener) {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(s.opts.logger.Handler(), slog.LevelDebug)}
	s.httpSrv, s.ln = srv, ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(ln)
	}()
}

// URL returns the server's base URL, "http://127.0.0.1:port" (without /v2-beta).
func (s *Server) URL() string { return "http://" + s.addr }

// Close stops the server: processes are abandoned, subscriptions dropped, goroutines
// waited for. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.srvMu.Lock()
	err := s.httpSrv.Close()
	s.srvMu.Unlock()
	s.DropWebsockets()
	s.closeRelays()
	s.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Restart simulates a Rancher server restart: it stops listening, drops every
// connection and subscription, and serves again on the same port. Model state is kept
// and running processes continue. It fails with a custom listener.
func (s *Server) Restart() error {
	if s.custom {
		return errors.New("ranchersim: Restart needs the server's own TCP listener")
	}
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	_ = s.httpSrv.Close()
	s.DropWebsockets()
	s.closeRelays()
	var lc net.ListenConfig
	ln, err := lc.Listen(s.ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("ranchersim: restart: listen on %s: %w", s.addr, err)
	}
	s.serve(ln)
	return nil
}

// FailRequests makes the next n HTTP requests (websocket handshakes included) answer
// status (a 5xx) with a Cattle error body.
func (s *Server) FailRequests(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, status
}

// FailNextAction makes the next POST ...?action= answer status without acting: 422
// answers ActionNotAvailable, 409 Conflict, any other 4xx or 5xx a Cattle error body
// with that status (500: ServerError). A status outside 400-599 panics, since it is a
// programming error.
func (s *Server) FailNextAction(status int) {
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("ranchersim: FailNextAction(%d): want a 4xx or 5xx status", status))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAction = status
}

// SetNeverHealthy is a fault: containers (of any service) created from now on whose
// image reference matches one of the glob patterns stay "initializing" forever (see
// [WithNeverHealthy]). Calling it with no pattern clears the list.
func (s *Server) SetNeverHealthy(patterns ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.neverHealthy = append([]string(nil), patterns...)
}

// SetNeverHealthyServices is a fault: containers created from now on for a service
// whose "stack/service" path or bare name matches one of the glob patterns stay
// "initializing" forever, whatever their image. Containers that already exist keep
// their health, so a rollback (which restarts them) still turns healthy. Calling it
// with no pattern clears the list.
func (s *Server) SetNeverHealthyServices(patterns ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.neverSvcs = append([]string(nil), patterns...)
}

func (s *Server) now() time.Time { return time.Now().UTC() }

// touch records that a model object changed: it is queued for the next resource.change
// publish and waiters are woken. Called with s.mu held.
func (s *Server) touch(objs ...any) {
	for _, o := range objs {
		if o == nil {
			continue
		}
		s.mark(o)
		switch x := o.(type) {
		case *Service:
			s.mark(x.stack)
		case *container:
			s.touch(x.svc)
			if x.host != nil {
				s.touch(x.host)
			}
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) mark(o any) {
	s.seq++
	if _, ok := s.dirtySet[o]; !ok {
		s.dirty = append(s.dirty, o)
	}
	s.dirtySet[o] = s.seq
}

// goLocked starts f in a tracked goroutine unless the server is closed. Called with s.mu held.
func (s *Server) goLocked(f func()) bool {
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// sleep waits for d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
