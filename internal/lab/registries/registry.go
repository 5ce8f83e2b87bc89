package registries

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
)

// Impl selects the registry implementation.
type Impl int

const (
	// Distribution is github.com/distribution/distribution/v3 with the
	// filesystem driver: what production mirrors run (blob mounts,
	// concurrent uploads). The default.
	Distribution Impl = iota
	// GGCR is go-containerregistry's pkg/registry with disk-backed blobs:
	// small and simple, but slower (see doc.go).
	GGCR
)

func (i Impl) String() string {
	switch i {
	case Distribution:
		return "distribution"
	case GGCR:
		return "ggcr"
	}
	return fmt.Sprintf("Impl(%d)", int(i))
}

// ParseImpl reads "distribution" or "ggcr".
func ParseImpl(s string) (Impl, error) {
	switch s {
	case "distribution", "":
		return Distribution, nil
	case "ggcr":
		return GGCR, nil
	}
	return 0, fmt.Errorf("registry implementation %q: want distribution or ggcr", s)
}

// Registry is a running registry on 127.0.0.1.
type Registry struct {
	impl        Impl
	addr        string
	dir         string
	tempDir     bool
	faults      *netem.Faults
	ln          net.Listener
	srv         *http.Server
	served      chan error
	link        atomic.Pointer[http.Handler]
	baseHandler atomic.Pointer[base]
	closeFn     func() error
	closeOnce   sync.Once
	closeErr    error
}

type options struct {
	impl       Impl
	link       netem.Link
	dir        string
	user, pass string
	addr       string
	logger     *slog.Logger
}

// Option configures Start.
type Option func(*options) error

// WithImpl selects the implementation. The default is Distribution.
func WithImpl(i Impl) Option {
	return func(o *options) error {
		if i != Distribution && i != GGCR {
			return fmt.Errorf("WithImpl(%d): unknown implementation", int(i))
		}
		o.impl = i
		return nil
	}
}

// WithLink shapes the registry's side of the network: latency per request
// and bandwidth shared by all downloads (and, separately, all uploads).
// The default is unshaped.
func WithLink(l netem.Link) Option {
	return func(o *options) error {
		if l.BytesPerSec < 0 || l.Latency < 0 {
			return fmt.Errorf("WithLink(%+v): negative rate or latency", l)
		}
		o.link = l
		return nil
	}
}

// WithDir stores the registry's data in dir (created if missing) and keeps
// it after Close. The default is a temporary directory removed by Close.
func WithDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("WithDir: empty directory")
		}
		o.dir = dir
		return nil
	}
}

// WithBasicAuth requires HTTP Basic credentials on /v2/ (the registry
// answers 401 with a Basic challenge otherwise). The default is no auth.
func WithBasicAuth(user, pass string) Option {
	return func(o *options) error {
		if user == "" || pass == "" {
			return errors.New("WithBasicAuth: empty user or password")
		}
		o.user, o.pass = user, pass
		return nil
	}
}

// WithAddr listens on addr instead of a free port on 127.0.0.1. The
// default is "127.0.0.1:0".
func WithAddr(addr string) Option {
	return func(o *options) error {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("WithAddr(%q): %w", addr, err)
		}
		o.addr = addr
		return nil
	}
}

// WithLogger receives the HTTP server's and the implementation's messages
// at debug level. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// Start serves a registry on 127.0.0.1 until Close. ctx bounds startup only.
func Start(ctx context.Context, opts ...Option) (*Registry, error) {
	o := options{addr: "127.0.0.1:0", logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Registry{impl: o.impl, dir: o.dir, faults: netem.NewFaults(), served: make(chan error, 1)}
	if r.dir == "" {
		d, err := os.MkdirTemp("", "drover-lab-registry-")
		if err != nil {
			return nil, fmt.Errorf("start registry: %w", err)
		}
		r.dir, r.tempDir = d, true
	} else if err := os.MkdirAll(r.dir, 0o750); err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}

	var h http.Handler
	var err error
	switch o.impl {
	case Distribution:
		h, r.closeFn, err = newDistribution(ctx, r.dir)
	case GGCR:
		h, err = newGGCR(r.dir, o.logger)
	}
	if err != nil {
		r.cleanupDir()
		return nil, fmt.Errorf("start %s registry: %w", o.impl, err)
	}
	if o.user != "" {
		h = basicAuth(h, o.user, o.pass)
	}
	h = withForeign(h)
	r.setHandler(h, o.link)

	ln, err := r.faults.Listen(o.addr)
	if err != nil {
		_ = r.shutdownImpl() // the listen error is the one to report
		r.cleanupDir()
		return nil, fmt.Errorf("start %s registry: %w", o.impl, err)
	}
	r.ln, r.addr = ln, ln.Addr().String()
	r.srv = &http.Server{
		Handler:           r.faults.Wrap(http.HandlerFunc(r.serve)),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.logger.Handler(), slog.LevelDebug),
	}
	go func() { r.served <- r.srv.Serve(ln) }()
	return r, nil
}

// base is the unshaped handler chain below the link.
type base struct{ h http.Handler }

func (r *Registry) setHandler(h http.Handler, l netem.Link) {
	shaped := netem.Handler(h, l)
	r.link.Store(&shaped)
	r.baseHandler.Store(&base{h})
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	(*r.link.Load()).ServeHTTP(w, req)
}

// SetLink replaces the registry's link shaping for requests that start
// from now on.
func (r *Registry) SetLink(l netem.Link) {
	b := r.baseHandler.Load()
	shaped := netem.Handler(b.h, l)
	r.link.Store(&shaped)
}

// Impl is the implementation serving this registry.
func (r *Registry) Impl() Impl { return r.impl }

// Addr is "127.0.0.1:port", usable as a registry host in image references.
func (r *Registry) Addr() string { return r.addr }

// URL is "http://127.0.0.1:port".
func (r *Registry) URL() string { return "http://" + r.addr }

// Dir is where the registry keeps its data.
func (r *Registry) Dir() string { return r.dir }

// Faults are the registry's fault knobs, request log and counters.
func (r *Registry) Faults() *netem.Faults { return r.faults }

// Stats is r.Faults().Stats().
func (r *Registry) Stats() netem.Stats { return r.faults.Stats() }

// Log is r.Faults().Log().
func (r *Registry) Log() []netem.Entry { return r.faults.Log() }

// Close stops the server (dropping open connections, including hung
// requests), stops the implementation and removes a temporary data
// directory. It is safe to call more than once and concurrently.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		err := r.srv.Close()
		if serr := <-r.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		err = errors.Join(err, r.ln.Close(), r.shutdownImpl())
		r.cleanupDir()
		if err != nil {
			r.closeErr = fmt.Errorf("close registry %s: %w", r.addr, err)
		}
	})
	return r.closeErr
}

func (r *Registry) shutdownImpl() error {
	if r.closeFn == nil {
		return nil
	}
	f := r.closeFn
	r.closeFn = nil
	return f()
}

func (r *Registry) cleanupDir() {
	if r.tempDir {
		os.RemoveAll(r.dir)
		r.tempDir = false
	}
}
