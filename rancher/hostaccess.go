package rancher

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/drover-dev/drover/rancher/dockersocket"
)

// dockerSocketStates are the host states in which Cattle offers the
// dockersocket action (resources/content/schema/base/host.json).
var dockerSocketStates = []string{StateActive, "inactive", "activating", "deactivating"}

// HostAccess asks Rancher for a fresh dockersocket access to host h: it
// re-reads the host (so an agent that went away since h was listed is seen),
// POSTs its dockersocket action and returns the hostAccess URL and token.
// Errors match the dockersocket sentinels: ErrHostNotActive (the host is not
// in a state that offers the action, its agent is not active, or Cattle
// answers 422 ActionNotAvailable), ErrActionMissing (no action for this key,
// 403, or 422 InvalidAction: the key's role lacks modifyInfra). Errors never
// hold the token.
func (c *Client) HostAccess(ctx context.Context, h *Host) (wsURL, token string, err error) {
	name := h.Name
	if name == "" {
		name = h.Hostname
	}
	self, err := c.selfURL(&h.Resource, "hosts")
	if err != nil {
		return "", "", fmt.Errorf("host %s: %w", name, err)
	}
	var fresh Host
	if err := c.call(ctx, http.MethodGet, self, nil, &fresh); err != nil {
		return "", "", fmt.Errorf("host %s: %w", name, err)
	}
	if !slices.Contains(dockerSocketStates, fresh.State) || (fresh.AgentState != "" && fresh.AgentState != StateActive) {
		st := fresh.State
		if fresh.AgentState != "" && fresh.AgentState != StateActive {
			st += ", agent " + fresh.AgentState
		}
		return "", "", fmt.Errorf("host %s is %s: %w", name, st, dockersocket.ErrHostNotActive)
	}
	link := fresh.Actions["dockersocket"]
	if link == "" {
		return "", "", fmt.Errorf("host %s: %w", name, dockersocket.ErrActionMissing)
	}
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
			switch {
			case ae.Status == http.StatusForbidden,
				ae.Status == http.StatusUnprocessableEntity && ae.Code == "InvalidAction":
				return "", "", fmt.Errorf("host %s: %w (%d %s)", name, dockersocket.ErrActionMissing, ae.Status, ae.Code)
			case ae.Status == http.StatusUnprocessableEntity && ae.Code == "ActionNotAvailable":
				return "", "", fmt.Errorf("host %s: %w (%d %s)", name, dockersocket.ErrHostNotActive, ae.Status, ae.Code)
			}
		}
		return "", "", fmt.Errorf("host %s: dockersocket action: %w", name, err)
	}
	if ha.URL == "" || ha.Token == "" {
		return "", "", fmt.Errorf("host %s: dockersocket action: the answer is not a hostAccess with url and token", name)
	}
	return ha.URL, ha.Token, nil
}

// DockerDialer is a dialer that reaches host h's Docker Engine API through
// Rancher (see package dockersocket): a fresh HostAccess per connection, the
// websocket verified with the client's TLS settings (rancher.caCert or the
// system roots), and ws:// refused when the client's URL is https.
func (c *Client) DockerDialer(h *Host) *dockersocket.Dialer {
	h = &Host{Resource: h.Resource, Hostname: h.Hostname}
	return &dockersocket.Dialer{
		Access:     func(ctx context.Context) (string, string, error) { return c.HostAccess(ctx, h) },
		TLS:        c.tlsConfig(),
		RequireTLS: c.base.Scheme == "https",
		Logger:     c.log,
	}
}

// tlsConfig is the TLS configuration of the client's transport, when it is
// an *http.Transport (nil: the system roots).
func (c *Client) tlsConfig() *tls.Config {
	if tr, ok := c.hc.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		return tr.TLSClientConfig.Clone()
	}
	return nil
}
