package dockersocket

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/coder/websocket"
)

// AccessFunc asks Rancher for a fresh dockersocket access to one host: it POSTs the
// host's dockersocket action and returns the hostAccess url and token (package
// rancher's Client.HostAccess, with [CheckHost] and [Refusal] deciding its
// errors). It is called once per connection.
type AccessFunc func(ctx context.Context) (url, token string, err error)

// Dialer opens Docker API connections to one host through Rancher. Its DialContext
// fits the moby client's WithDialContext, so the client runs over it unchanged.
// A Dialer is safe for concurrent use; set its fields before the first dial.
type Dialer struct {
	// Access asks for the websocket URL and token; required.
	Access AccessFunc
	// HTTPClient carries the websocket handshakes; it must speak HTTP/1.1 to
	// Rancher (a handshake cannot go over HTTP/2). Share one among the
	// dialers of one Rancher server, so their connections share its dialer,
	// proxy, TLS settings (the Rancher URL's CA) and session cache. nil means
	// the Dialer's own, verifying wss:// URLs with the system roots.
	HTTPClient *http.Client
	// RequireTLS refuses ws:// URLs ([ErrInsecureURL]). Set it when the Rancher
	// URL is https, so a misconfigured server cannot downgrade the Docker API.
	RequireTLS bool
	// Logger gets debug records of each connection (never the token). nil discards.
	Logger *slog.Logger
	// Check, when set, is asked why a websocket closed before dockerd sent a
	// byte: Rancher accepts the action and the websocket of a host whose agent
	// went away, then closes it. A non-nil error (such as one wrapping
	// [ErrHostNotActive] after re-reading the host) is what the connection's
	// Read returns instead of [ErrRelayClosed]. It lets Access skip reading
	// the host before every action, paying that read only on failure.
	Check func(ctx context.Context) error

	once sync.Once
	hc   *http.Client
}

// maxMessage bounds one incoming websocket message (the agent sends at most 1024
// bytes, 1368 in base64; other relays may send more).
const maxMessage = 8 << 20

// DialContext opens one websocket, carrying one Docker API connection, to the host.
// network must be a TCP network ("tcp", as the moby client asks for tcp:// hosts);
// addr is ignored, since Rancher picks the host. Every call asks Access for a fresh
// token. Errors never hold the token.
func (d *Dialer) DialContext(ctx context.Context, network, _ string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("dockersocket: network %q: only tcp is relayed through Rancher", network)
	}
	if d.Access == nil {
		return nil, errors.New("dockersocket: Dialer.Access is not set")
	}
	raw, token, err := d.Access(ctx)
	if err != nil {
		return nil, &redacted{msg: "dockersocket: " + redact(err.Error(), token), errs: unwrapSafe(err)}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, &redacted{msg: fmt.Sprintf("dockersocket: rancher answered an unusable websocket URL %q", stripQuery(raw))}
	}
	if d.RequireTLS && u.Scheme != "wss" {
		return nil, fmt.Errorf("dockersocket: %s: %w", stripQuery(raw), ErrInsecureURL)
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	d.once.Do(d.init)
	// coder/websocket: the handshake response's body never needs closing.
	c, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPClient: d.hc}) //nolint:bodyclose
	if err != nil {
		where := stripQuery(raw)
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return nil, &redacted{msg: fmt.Sprintf("dockersocket: open %s: %d: %v", where, resp.StatusCode, ErrTokenRefused),
				errs: []error{ErrTokenRefused}}
		}
		var errs []error
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
		}
		return nil, &redacted{msg: "dockersocket: open " + where + ": " + redact(err.Error(), token), errs: errs}
	}
	c.SetReadLimit(maxMessage)
	d.logger().Debug("dockersocket: websocket open", "url", stripQuery(raw))
	return newConn(c, u.Host, d.Check), nil
}

func (d *Dialer) init() {
	if d.HTTPClient != nil {
		d.hc = d.HTTPClient
		return
	}
	d.hc = &http.Client{Transport: WebsocketTransport(http.DefaultTransport.(*http.Transport).Clone())}
}

// WebsocketTransport makes tr fit websocket handshakes and returns it: HTTP/2
// off (a handshake is HTTP/1.1), and a TLS session cache when tr has none,
// so that every websocket to the same Rancher server after the first resumes
// its TLS session instead of a full handshake.
func WebsocketTransport(tr *http.Transport) *http.Transport {
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr.TLSClientConfig.NextProtos = slices.DeleteFunc(slices.Clone(tr.TLSClientConfig.NextProtos), func(p string) bool { return p == "h2" })
	if tr.TLSClientConfig.ClientSessionCache == nil {
		tr.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return tr
}

func (d *Dialer) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// unwrapSafe keeps what a caller branches on from an Access error (the package's
// sentinels, context errors) and drops the rest, which may hold a token.
func unwrapSafe(err error) []error {
	var out []error
	for _, s := range []error{ErrActionMissing, ErrHostNotActive, ErrTokenRefused, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			out = append(out, s)
		}
	}
	return out
}
