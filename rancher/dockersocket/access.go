package dockersocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
)

// Host is what [RequestAccess] needs of a Rancher host resource.
type Host struct {
	Name    string            // the host's name (or hostname), for errors
	State   string            // the resource's state
	Actions map[string]string // the resource's actions map
}

// Keys is a Rancher API key pair (HTTP Basic: access key as user, secret as password).
type Keys struct{ Access, Secret string }

// APIError is Rancher's error answer to the dockersocket action.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message != "" && e.Message != e.Code {
		return fmt.Sprintf("rancher answered %d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("rancher answered %d %s", e.Status, e.Code)
}

// actionStates are the host states in which Cattle offers dockersocket
// (rancher/cattle resources/content/schema/base/host.json).
var actionStates = []string{"active", "inactive", "activating", "deactivating"}

// RequestAccess POSTs the host's dockersocket action and returns the websocket URL
// and its token. A host in another state (reconnecting, disconnected, ...) is
// [ErrHostNotActive] without a request; a missing action or a 403 or 422
// InvalidAction answer is [ErrActionMissing]; a 422 ActionNotAvailable (the host
// changed state meanwhile) is [ErrHostNotActive]. Errors never hold the token.
func RequestAccess(ctx context.Context, hc *http.Client, h Host, keys Keys) (wsURL, token string, err error) {
	if !slices.Contains(actionStates, h.State) {
		return "", "", fmt.Errorf("host %s is %s: %w", h.Name, h.State, ErrHostNotActive)
	}
	action := h.Actions["dockersocket"]
	if action == "" {
		return "", "", fmt.Errorf("host %s: %w", h.Name, ErrActionMissing)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, http.NoBody)
	if err != nil {
		return "", "", fmt.Errorf("host %s: dockersocket action: %w", h.Name, err)
	}
	req.SetBasicAuth(keys.Access, keys.Secret)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("host %s: dockersocket action: %w", h.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", "", fmt.Errorf("host %s: dockersocket action: reading the answer: %w", h.Name, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Status: resp.StatusCode}
		var eb struct {
			Code    string  `json:"code"`
			Message *string `json:"message"`
		}
		if json.Unmarshal(body, &eb) == nil {
			ae.Code = eb.Code
			if eb.Message != nil {
				ae.Message = *eb.Message
			}
		}
		if ae.Code == "" {
			ae.Code = http.StatusText(resp.StatusCode)
		}
		switch {
		case resp.StatusCode == http.StatusForbidden,
			resp.StatusCode == http.StatusUnprocessableEntity && ae.Code == "InvalidAction":
			return "", "", fmt.Errorf("host %s: %w (%w)", h.Name, ErrActionMissing, ae)
		case resp.StatusCode == http.StatusUnprocessableEntity && ae.Code == "ActionNotAvailable":
			return "", "", fmt.Errorf("host %s: %w (%w)", h.Name, ErrHostNotActive, ae)
		}
		return "", "", fmt.Errorf("host %s: dockersocket action: %w", h.Name, ae)
	}
	var ha struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &ha); err != nil || ha.URL == "" || ha.Token == "" {
		return "", "", fmt.Errorf("host %s: dockersocket action: %w", h.Name, errors.New("the answer is not a hostAccess with url and token"))
	}
	return ha.URL, ha.Token, nil
}

// Access returns an [AccessFunc] that calls [RequestAccess] for h on every
// connection. h is read once: a caller that wants fresh host states per
// connection writes its own AccessFunc around RequestAccess.
func Access(hc *http.Client, h Host, keys Keys) AccessFunc {
	h.Actions = maps.Clone(h.Actions)
	return func(ctx context.Context) (string, string, error) {
		return RequestAccess(ctx, hc, h, keys)
	}
}
