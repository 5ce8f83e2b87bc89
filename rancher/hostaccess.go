package rancher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"

	"github.com/drover-dev/drover/rancher/dockersocket"
)

// HostAccess asks Rancher for a fresh dockersocket access to host h: it
// re-reads the host (so an agent that went away since h was listed is seen),
// POSTs its dockersocket action and returns the hostAccess URL and token.
// Errors match the dockersocket sentinels: ErrHostNotActive (the host is not
// in a state that offers the action, its agent is not active, or Cattle
// answers 422 ActionNotAvailable), ErrActionMissing (no action for this key,
// 403, or 422 InvalidAction: the key's role lacks modifyInfra). Errors never
// hold the token.
func (c *Client) HostAccess(ctx context.Context, h *Host) (wsURL, token string, err error) {
	fresh, err := c.checkHostAccess(ctx, h)
	if err != nil {
		return "", "", err
	}
	return c.postDockerSocket(ctx, hostName(h), fresh.Actions["dockersocket"])
}

// checkHostAccess re-reads host h and returns it when it offers the
// dockersocket action (its state, its agent's state and the action link
// for this key); otherwise an error wrapping ErrHostNotActive or
// ErrActionMissing.
func (c *Client) checkHostAccess(ctx context.Context, h *Host) (*Host, error) {
	name := hostName(h)
	self, err := c.selfURL(&h.Resource, "hosts")
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", name, err)
	}
	var fresh Host
	if err := c.call(ctx, http.MethodGet, self, nil, &fresh); err != nil {
		return nil, fmt.Errorf("host %s: %w", name, err)
	}
	if err := dockersocket.CheckHost(name, fresh.State, fresh.AgentState, fresh.Actions); err != nil {
		return nil, err
	}
	return &fresh, nil
}

// postDockerSocket POSTs a host's dockersocket action link and returns the
// hostAccess URL and token.
func (c *Client) postDockerSocket(ctx context.Context, name, link string) (wsURL, token string, err error) {
	u, err := c.resolve(link)
	if err != nil {
		return "", "", fmt.Errorf("host %s: %w", name, err)
	}
	var ha struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	}
	if err := c.call(ctx, http.MethodPost, u, nil, &ha); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			if s := dockersocket.Refusal(ae.Status, ae.Code); s != nil {
				return "", "", fmt.Errorf("host %s: Rancher answered the dockersocket action %d %s: %w", name, ae.Status, ae.Code, s)
			}
		}
		return "", "", fmt.Errorf("host %s: dockersocket action: %w", name, err)
	}
	if ha.URL == "" || ha.Token == "" {
		return "", "", fmt.Errorf("host %s: dockersocket action: the answer is not a hostAccess with url and token", name)
	}
	return ha.URL, ha.Token, nil
}

func hostName(h *Host) string {
	if h.Name != "" {
		return h.Name
	}
	return h.Hostname
}

// DockerDialer is a dialer that reaches host h's Docker Engine API through
// Rancher (see package dockersocket): a fresh dockersocket action per
// connection, the websocket verified with the client's TLS settings
// (rancher.caCert or the system roots), and ws:// refused when the client's
// URL is https.
//
// When h as listed offers the action, each connection is one request: the
// POST of that action link (Rancher re-checks the host's state itself). An
// agent that went away since the listing shows as a websocket Rancher closes
// at once; only then is the host re-read, so the error says so
// (ErrHostNotActive, "agent reconnecting"). A host listed without the action
// is re-read before every action (HostAccess).
func (c *Client) DockerDialer(h *Host) *dockersocket.Dialer {
	listed := &Host{Resource: h.Resource, Hostname: h.Hostname, AgentState: h.AgentState}
	listed.Actions = maps.Clone(h.Actions)
	name := hostName(listed)
	access := func(ctx context.Context) (string, string, error) { return c.HostAccess(ctx, listed) }
	if dockersocket.CheckHost(name, listed.State, listed.AgentState, listed.Actions) == nil {
		link := listed.Actions["dockersocket"]
		access = func(ctx context.Context) (string, string, error) { return c.postDockerSocket(ctx, name, link) }
	}
	return &dockersocket.Dialer{
		Access: access,
		Check: func(ctx context.Context) error {
			_, err := c.checkHostAccess(ctx, listed)
			if errors.Is(err, dockersocket.ErrHostNotActive) || errors.Is(err, dockersocket.ErrActionMissing) {
				return err
			}
			return nil // the relay's own error says more than a failed re-read
		},
		HTTPClient: c.websocketClient(),
		RequireTLS: c.base.Scheme == "https",
		Logger:     c.log,
	}
}

// websocketClient is the HTTP client every DockerDialer of c opens its
// websockets with, made once: a clone of c's *http.Transport (its dialer,
// proxy and TLS settings: rancher.caCert or the system roots) with HTTP/2
// off and one TLS session cache, so each websocket after the first resumes
// a TLS session instead of a full handshake; or, when c's transport is a
// caller's RoundTripper (WithHTTPClient), c's client itself. One per host
// (as before) cost a transport per host and a full TLS handshake per
// websocket.
func (c *Client) websocketClient() *http.Client {
	c.wsOnce.Do(func() {
		tr, ok := c.hc.Transport.(*http.Transport)
		if !ok {
			c.ws = c.hc
			return
		}
		c.ws = &http.Client{Transport: dockersocket.WebsocketTransport(tr.Clone()), CheckRedirect: c.hc.CheckRedirect}
	})
	return c.ws
}
