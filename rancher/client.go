package rancher

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/drover-dev/drover/internal/pemfile"
)

// Client talks to one Rancher 1.6 server with one API key pair.
type Client struct {
	base     *url.URL // scheme://host[/prefix]/v2-beta
	project  string   // project id found in the URL, or RANCHER_ENVIRONMENT
	auth     string   // "Basic ..." or ""; never logged
	hc       *http.Client
	log      *slog.Logger
	opts     options
	mu       sync.Mutex
	hubs     map[string]*hub
	closed   bool
	hubsDone sync.WaitGroup
	ownHC    bool // hc was made here: Close closes its idle connections
	wsOnce   sync.Once
	ws       *http.Client // see websocketClient
	// listLimit bounds a listing's pages together; 0 is maxListBytes
	// (tests set less).
	listLimit int64
}

// New returns a client for the Rancher server at baseURL, authenticating with
// HTTP Basic (accessKey as user, secretKey as password). Both keys empty
// means no authentication (a server with access control off).
//
// baseURL may be the server root ("https://rancher:8080"), the API root
// (".../v2-beta", or ".../v1", treated as v2-beta), or a project URL as the
// rancher CLI takes it (".../v2-beta/projects/1a5/schemas"); the project id
// found there is returned by DefaultProject. New does no I/O; Discover
// checks the URL and the keys.
func New(baseURL, accessKey, secretKey string, opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("rancher: %w", err)
		}
	}
	base, project, err := normalizeURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("rancher: %w", err)
	}
	if (accessKey == "") != (secretKey == "") {
		return nil, errors.New("rancher: access key and secret key must be given together")
	}
	c := &Client{base: base, project: project, opts: o, log: o.logger, hubs: map[string]*hub{}}
	if accessKey != "" {
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(accessKey+":"+secretKey))
	}
	switch {
	case o.httpClient != nil && o.caFile != "":
		return nil, errors.New("rancher: WithCAFile cannot be combined with WithHTTPClient")
	case o.httpClient != nil:
		c.hc = o.httpClient
	default:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		// Keep the connections of concurrent requests (a dockersocket POST
		// per host and Docker API connection), not 2 of them.
		tr.MaxIdleConnsPerHost = maxIdleConns
		if o.caFile != "" {
			pool, err := loadCA(o.caFile)
			if err != nil {
				return nil, fmt.Errorf("rancher: %w", err)
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		c.hc, c.ownHC = &http.Client{Transport: tr, CheckRedirect: noDowngrade}, true
	}
	return c, nil
}

// noDowngrade refuses a redirect from https:// to http://: the API keys
// would follow it in clear.
func noDowngrade(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
		return fmt.Errorf("redirect from https:// to %s://%s refused: the API keys would cross in clear", req.URL.Scheme, req.URL.Host)
	}
	return nil
}

func loadCA(path string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if err := pemfile.AppendCerts(pool, path); err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	return pool, nil
}

// normalizeURL turns any accepted form of the server URL into the v2-beta
// API root, and returns a project id found in it.
func normalizeURL(raw string) (*url.URL, string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, which might carry a password
		}
		return nil, "", fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, "", fmt.Errorf("URL scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, "", errors.New("URL has no host")
	}
	if u.User != nil {
		return nil, "", errors.New("URL must not carry credentials: use the access and secret keys")
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	prefix, project := segs, ""
	for i, s := range segs {
		if s == "v1" || s == "v2-beta" {
			prefix = segs[:i]
			if len(segs) > i+2 && segs[i+1] == "projects" {
				project = segs[i+2]
			}
			break
		}
	}
	path := "/" + strings.Join(append(append([]string{}, prefix...), "v2-beta"), "/")
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: path}, project, nil
}

// BaseURL returns the normalised API root, e.g. "https://rancher:8080/v2-beta".
func (c *Client) BaseURL() string { return c.base.String() }

// DefaultProject returns the project id found in the base URL (a key
// scoped to one project, ".../v2-beta/projects/1a5"), or "" when it names
// none.
func (c *Client) DefaultProject() string { return c.project }

// String describes the client without its keys.
func (c *Client) String() string { return "rancher.Client(" + c.base.String() + ")" }

// GoString is String, so that %#v never prints the keys either.
func (c *Client) GoString() string { return c.String() }

// Discover GETs the API root, which checks the URL and the keys, and returns
// the schemas URL the server announces in X-API-Schemas.
func (c *Client) Discover(ctx context.Context) (schemasURL string, err error) {
	resp, err := c.do(ctx, http.MethodGet, c.base.String(), nil)
	if err != nil {
		return "", fmt.Errorf("discover %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	s := resp.Header.Get("X-API-Schemas")
	if s == "" {
		return "", fmt.Errorf("discover %s: no X-API-Schemas header: not a Rancher API", c.base)
	}
	return s, nil
}

// Close ends the event subscriptions, waits for their goroutines, and
// closes idle connections (of the client's own transport, not of one given
// with WithHTTPClient). The client stays usable for requests; WaitFor after
// Close only polls.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	for _, h := range c.hubs {
		h.stop()
	}
	c.mu.Unlock()
	c.hubsDone.Wait()
	if c.ownHC {
		c.hc.CloseIdleConnections()
	}
	return nil
}

// resolve turns a URL from a link, action or pagination into one on the base
// URL's scheme and host, so credentials never go elsewhere.
func (c *Client) resolve(link string) (string, error) {
	if link == "" {
		return "", errors.New("empty link")
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("bad link %q: %w", link, err)
	}
	if !u.IsAbs() && !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("bad link %q: not an absolute path", link)
	}
	if u.Host != "" && u.Host != c.base.Host {
		c.log.Debug("rancher: link host differs from base URL; using base host", "link_host", u.Host)
	}
	u.Scheme, u.Host, u.User = c.base.Scheme, c.base.Host, nil
	return u.String(), nil
}

// projectURL is the base URL of a project's collections, or the API root
// when project is "".
func (c *Client) projectURL(project string) string {
	if project == "" {
		return c.base.String()
	}
	return c.base.String() + "/projects/" + url.PathEscape(project)
}

// do sends one request; a non-2xx answer becomes an *APIError (and the body
// is closed). The caller closes the body of a 2xx answer.
func (c *Client) do(ctx context.Context, method, u string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, c.opts.requestTimeout)
	req, err := http.NewRequestWithContext(rctx, method, u, rd)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	c.log.Debug("rancher request", "method", method, "path", req.URL.Path, "query", req.URL.RawQuery,
		"status", resp.StatusCode, "dur", time.Since(start))
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, parseAPIError(method, req.URL, resp)
	}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// maxIdleConns is how many idle connections to the Rancher server the
// default transport keeps (http.DefaultTransport keeps 2): enough for the
// requests prewarm's concurrency (32 by default) makes at once, so each
// dockersocket POST reuses a connection instead of dialing one.
const maxIdleConns = 64

// maxBody bounds a decoded answer (a page of 3000 services is a few MB).
const maxBody = 64 << 20

// errTooLarge is an answer longer than the reader allows.
var errTooLarge = errors.New("answer too large")

// call sends a request and decodes a 2xx JSON answer into out (if not nil).
func (c *Client) call(ctx context.Context, method, u string, body, out any) error {
	_, err := c.callLimit(ctx, method, u, body, out, maxBody)
	return err
}

// callLimit is call with the answer bounded at limit bytes: a longer one is
// errTooLarge (wrapped, naming the limit). It returns the bytes read.
func (c *Client) callLimit(ctx context.Context, method, u string, body, out any, limit int64) (int64, error) {
	resp, err := c.do(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return 0, nil
	}
	lr := &io.LimitedReader{R: resp.Body, N: limit + 1}
	err = json.NewDecoder(lr).Decode(out)
	n := limit + 1 - lr.N
	if n > limit {
		return n, fmt.Errorf("%s answer over %s: %w", method, sizeMiB(limit), errTooLarge)
	}
	if err != nil {
		return n, fmt.Errorf("decode %s answer (status %d): %w", method, resp.StatusCode, err)
	}
	return n, nil
}

// sizeMiB formats a byte count in MiB, or in bytes when under one.
func sizeMiB(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

// HTTPClient returns the HTTP client the client uses (its TLS settings and
// CA), for callers that speak a part of the API the client does not type,
// such as rancher/lease's genericObjects.
func (c *Client) HTTPClient() *http.Client { return c.hc }
