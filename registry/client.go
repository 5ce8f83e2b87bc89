package registry

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/docker/cli/cli/config"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/semaphore"

	"github.com/drover-dev/drover/inventory"
)

// client talks the distribution protocol to one registry: authentication
// comes from go-containerregistry's transport, retries and limits from here.
type client struct {
	label  string // "source" or the region name
	addr   string
	scheme string
	http   *http.Client
	slots  *semaphore.Weighted // concurrent blob transfers (held while streaming)
	reqs   *semaphore.Weighted // concurrent other requests (held until the answer's headers)
	o      *options

	mu     sync.Mutex
	broken error // set on 401: no further requests
}

// newClient pings reg and sets up authentication for the given scopes
// (transport.Scope strings), retrying connection errors and 5xx answers.
func newClient(ctx context.Context, label string, r inventory.Registry, scopes []string, o *options) (*client, error) {
	var nopts []name.Option
	if r.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(r.Address, append(nopts, name.StrictValidation)...)
	if err != nil {
		return nil, fmt.Errorf("registry %s (%s): %w", label, r.Address, err)
	}
	auth, err := authenticator(reg, r, o)
	if err != nil {
		return nil, fmt.Errorf("registry %s (%s): %w", label, r.Address, err)
	}
	base := o.transport
	if t, ok := base.(*http.Transport); ok && r.Insecure {
		t = t.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the inventory marks this registry insecure
		base = t
	}
	// go-containerregistry tries plain HTTP when TLS fails for a loopback or
	// private address; the guard refuses that unless the inventory allows it.
	scheme := reg.Scheme()
	var guard *httpsOnly
	if !r.Insecure {
		scheme = "https"
		guard = &httpsOnly{next: base}
		base = guard
	}
	var rt http.RoundTripper
	for attempt := 1; ; attempt++ {
		// The ping (and token fetch) is bounded like every other request:
		// a registry that never answers fails here, not in an endless wait.
		pctx, cancel := context.WithTimeout(ctx, o.stall)
		guard.reset()
		rt, err = transport.NewWithContext(pctx, reg, auth, base, scopes)
		stalled := errors.Is(pctx.Err(), context.DeadlineExceeded)
		cancel()
		if err != nil && ctx.Err() == nil && stalled {
			err = fmt.Errorf("no answer within %v: %w", o.stall, err)
		}
		if terr := guard.tlsFailure(); err != nil && terr != nil {
			err = fmt.Errorf("%w: %w; Drover speaks only HTTPS to a registry that is not marked insecure (insecure: true on it in the inventory allows plain HTTP and unverified TLS)", ErrTLS, terr)
		}
		if err == nil || ctx.Err() != nil || attempt >= o.attempts || errors.Is(err, ErrAuth) || errors.Is(err, ErrTLS) {
			break
		}
		o.logger.Debug("registry ping failed, retrying", "registry", r.Address, "attempt", attempt, "err", err)
		if serr := o.sleep(ctx, o.delay(attempt, 0)); serr != nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s (%s): %w", label, r.Address, err)
	}
	limit := r.MaxConcurrency
	if limit <= 0 {
		limit = o.jobs
	}
	return &client{
		label:  label,
		addr:   r.Address,
		scheme: scheme,
		http:   &http.Client{Transport: rt},
		slots:  semaphore.NewWeighted(int64(limit)),
		reqs:   semaphore.NewWeighted(int64(limit)),
		o:      o,
	}, nil
}

// authenticator picks the credentials for reg: env vars or a docker config
// named in the inventory, else the keychain. Values are never logged.
func authenticator(reg name.Registry, r inventory.Registry, o *options) (authn.Authenticator, error) {
	c := r.Credentials
	switch {
	case c != nil && (c.UsernameEnv != "" || c.PasswordEnv != ""):
		a, err := r.Auth(o.getenv)
		if err != nil {
			return nil, fmt.Errorf("credentials: %w", err)
		}
		return authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password}), nil
	case c != nil && c.DockerConfig != "":
		b, err := inventory.ReadDockerConfig(c.DockerConfig)
		if err != nil {
			return nil, fmt.Errorf("credentials: %w", err)
		}
		cf, err := config.LoadFromReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("credentials: docker config %s: %w", filepath.Base(c.DockerConfig), err)
		}
		ac, err := cf.GetAuthConfig(reg.RegistryStr())
		if err != nil {
			return nil, fmt.Errorf("credentials: docker config %s: %w", filepath.Base(c.DockerConfig), err)
		}
		return authn.FromConfig(authn.AuthConfig{Username: ac.Username, Password: ac.Password,
			Auth: ac.Auth, IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}), nil
	default:
		return authn.Resolve(context.Background(), o.keychain, reg)
	}
}

// delay is the wait before attempt+1: exponential backoff with jitter, or
// the server's Retry-After when longer (capped at a minute).
func (o *options) delay(attempt int, retryAfter time.Duration) time.Duration {
	d := o.backoff << (attempt - 1)
	if d > o.maxBackoff || d <= 0 {
		d = o.maxBackoff
	}
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	if retryAfter > d {
		d = min(retryAfter, max(time.Minute, o.maxBackoff))
	}
	return d
}

func parseRetryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return time.Until(t)
	}
	return 0
}

func (c *client) url(path string, q url.Values) string {
	u := url.URL{Scheme: c.scheme, Host: c.addr, Path: path}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// do sends a request (re-built for every attempt) and returns the response
// when its status is one of ok; the caller closes the body. Retriable
// failures are retried; anything else is an *HTTPError.
func (c *client) do(ctx context.Context, method, target string, hdr http.Header, body []byte, ok ...int) (*http.Response, error) {
	c.mu.Lock()
	broken := c.broken
	c.mu.Unlock()
	if broken != nil {
		return nil, broken
	}
	var last error
	for attempt := 1; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, target, rd)
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		var retryAfter time.Duration
		if err := c.reqs.Acquire(ctx, 1); err != nil {
			return nil, err
		}
		resp, err := c.doWatched(req)
		c.reqs.Release(1)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = fmt.Errorf("%s %s%s: %w", method, c.addr, req.URL.Path, err)
		case statusIn(resp.StatusCode, ok):
			return resp, nil
		default:
			herr := readHTTPError(c.addr, req, resp)
			resp.Body.Close()
			if !retriableStatus(resp.StatusCode) {
				if resp.StatusCode == http.StatusUnauthorized {
					c.mu.Lock()
					c.broken = herr
					c.mu.Unlock()
				}
				return nil, herr
			}
			last, retryAfter = herr, parseRetryAfter(resp.Header.Get("Retry-After"))
		}
		if attempt >= c.o.attempts {
			return nil, fmt.Errorf("after %d attempts: %w", attempt, last)
		}
		d := c.o.delay(attempt, retryAfter)
		c.o.logger.Debug("retrying", "registry", c.addr, "method", method, "attempt", attempt, "wait", d, "err", last)
		if err := c.o.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// doWatched sends req and fails it when the registry answers no headers,
// or the body moves no bytes, for the stall timeout.
func (c *client) doWatched(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	wd := time.AfterFunc(c.o.stall, cancel)
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		stalled := !wd.Stop() && req.Context().Err() == nil
		cancel()
		if stalled {
			return nil, fmt.Errorf("no answer within %v: %w", c.o.stall, err)
		}
		return nil, err
	}
	resp.Body = &watchedBody{ReadCloser: resp.Body, wd: wd, d: c.o.stall, cancel: cancel}
	return resp, nil
}

// watchedBody cancels its request when no Read returns for d.
type watchedBody struct {
	io.ReadCloser
	wd     *time.Timer
	d      time.Duration
	cancel context.CancelFunc
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.wd.Reset(b.d)
	return b.ReadCloser.Read(p)
}

func (b *watchedBody) Close() error {
	b.wd.Stop()
	b.cancel()
	return b.ReadCloser.Close()
}

func statusIn(code int, ok []int) bool {
	for _, c := range ok {
		if c == code {
			return true
		}
	}
	return false
}
