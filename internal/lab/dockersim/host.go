package dockersim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distribution/reference"
	"github.com/drover-dev/drover/internal/lab/netem"
)

// Host is one simulated Docker host: an Engine API server on 127.0.0.1.
type Host struct {
	cfg    config
	name   string
	addr   string
	client *http.Client // to registries: link-shaped, User-Agent set
	tr     *http.Transport

	srv          *http.Server
	faults       *netem.Faults
	ctx          context.Context // ends when the host closes
	cancel       context.CancelFunc
	serveDone    chan struct{}
	waitHandlers func()
	closeOnce    sync.Once

	failMid atomic.Bool
	store   *store

	dlMu     sync.Mutex
	inflight map[string]*inflight // layer downloads by chain ID

	statsMu sync.Mutex
	stats   Stats
}

// Start starts a simulated host on 127.0.0.1 (a free port). ctx bounds only
// the start; the host runs until Close.
func Start(ctx context.Context, opts ...Option) (*Host, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	faults := netem.NewFaults()
	ln, err := faults.Listen("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dockersim: listen: %w", err)
	}
	addr := ln.Addr().String()
	name := cfg.name
	if name == "" {
		_, port, _ := net.SplitHostPort(addr)
		name = "dockersim-" + port
	}
	h := &Host{
		cfg:       cfg,
		name:      name,
		addr:      addr,
		faults:    faults,
		serveDone: make(chan struct{}),
		store:     newStore(cfg.diskCapacity),
		inflight:  map[string]*inflight{},
		stats:     Stats{BytesFetched: map[string]int64{}, Requests: map[string]int{}},
	}
	base := cfg.transport
	if base == nil {
		h.tr = &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}
		base = h.tr
	}
	h.client = &http.Client{Transport: &userAgent{rt: netem.Transport(base, cfg.link), ua: "drover-lab-host/" + name}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.srv = &http.Server{
		Handler:           h.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return h.ctx },
		ErrorLog:          nil,
	}
	go func() {
		defer close(h.serveDone)
		_ = h.srv.Serve(ln)
	}()
	return h, nil
}

type userAgent struct {
	rt http.RoundTripper
	ua string
}

func (u *userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.rt.RoundTrip(r)
}

// Endpoint is the host's Docker endpoint, "tcp://127.0.0.1:port".
func (h *Host) Endpoint() string { return "tcp://" + h.addr }

// Addr is "127.0.0.1:port".
func (h *Host) Addr() string { return h.addr }

// Name is the host's name (WithName).
func (h *Host) Name() string { return h.name }

// Close stops the server, ends in-flight requests and pulls and waits for
// them. It is safe to call more than once.
func (h *Host) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.cancel()
		err = h.srv.Close()
		<-h.serveDone
		h.waitHandlers()
		if h.tr != nil {
			h.tr.CloseIdleConnections()
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	})
	return err
}

// SetDown makes the host unreachable (true: its port is closed, so
// connections are refused, and requests on open connections are cut) or
// reachable again on the same port (false).
func (h *Host) SetDown(down bool) { h.faults.Down(down) }

// SetHang makes every new request wait, unanswered, until the client gives
// up (true) or answers normally again (false).
func (h *Host) SetHang(hang bool) { h.faults.Hang(hang) }

// FailPullMidStream makes pulls fail after their progress stream has begun
// (true): a pull downloads about half of its first missing layer, then
// reports "unexpected EOF" as an errorDetail line with HTTP 200, like a
// registry connection cut mid-blob.
func (h *Host) FailPullMidStream(fail bool) { h.failMid.Store(fail) }

// Stats counts what the host did since Start.
type Stats struct {
	// Requests counts Engine API requests by route, e.g.
	// "GET /images/{name}/json" (version prefix removed).
	Requests map[string]int
	// Inspects counts image inspect requests.
	Inspects int
	// Pulls counts pulls started (images/create and EnsureImage pulls).
	Pulls int
	// LayersDownloaded counts layer blobs fetched and verified.
	LayersDownloaded int
	// BytesFetched counts bytes read from each registry ("host:port"),
	// manifests, configs and layers alike.
	BytesFetched map[string]int64
}

// Stats returns a copy of the counters.
func (h *Host) Stats() Stats {
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	s := h.stats
	s.Requests = make(map[string]int, len(h.stats.Requests))
	for k, v := range h.stats.Requests {
		s.Requests[k] = v
	}
	s.BytesFetched = make(map[string]int64, len(h.stats.BytesFetched))
	for k, v := range h.stats.BytesFetched {
		s.BytesFetched[k] = v
	}
	return s
}

func (h *Host) countPull() {
	h.statsMu.Lock()
	h.stats.Pulls++
	h.statsMu.Unlock()
}

func (h *Host) countLayer() {
	h.statsMu.Lock()
	h.stats.LayersDownloaded++
	h.statsMu.Unlock()
}

func (h *Host) countBytes(registry string, n int64) {
	h.statsMu.Lock()
	h.stats.BytesFetched[registry] += n
	h.statsMu.Unlock()
}

func (h *Host) countRequest(route string) {
	h.statsMu.Lock()
	h.stats.Requests[route]++
	if route == "GET /images/{name}/json" {
		h.stats.Inspects++
	}
	h.statsMu.Unlock()
}

// EnsureImage makes ref present on the host: it pulls when ref is missing,
// or always when always is set (Rancher's pull_image: always). It is what a
// Rancher agent does before starting a container. Its errors do not name ref
// or the host: the caller (the Rancher simulator) does, once.
func (h *Host) EnsureImage(ctx context.Context, ref string, always bool) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return err
	}
	if !always && h.store.has(ref) {
		return nil
	}
	named = refKey(named)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(h.ctx, cancel)
	defer stop()
	return h.pull(ctx, pullRequest{ref: named}, &stream{})
}

// Preload puts ref on the host as a pull would (tags, digest, layers
// counted against the disk), reading the manifest and config from the
// registry but not the layer blobs, and spending no extract time. It is
// for lab setup (hosts that already run a release), not for traffic under
// test: it counts no pull and no downloaded layer.
func (h *Host) Preload(ctx context.Context, ref string) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return fmt.Errorf("preload %s on %s: %w", ref, h.name, err)
	}
	if h.store.has(ref) {
		return nil
	}
	if err := h.pull(ctx, pullRequest{ref: refKey(named), preload: true}, &stream{}); err != nil {
		return fmt.Errorf("preload %s on %s: %w", ref, h.name, err)
	}
	return nil
}

// DiskUsage returns the disk capacity (WithDiskCapacity; 0 when unlimited)
// and the bytes of layers held or being downloaded, as the Rancher
// simulator's host info reports them (ranchersim.DiskReporter).
func (h *Host) DiskUsage() (capacity, used int64) {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	return h.store.capacity, h.store.used
}
