package dockersocket

import (
	"errors"
	"net/url"
	"strings"
)

// Sentinels for decisions; every error the package returns wraps at most one of them.
var (
	// ErrActionMissing: the host offers no dockersocket action to this key, or
	// Rancher refused it (403, 422 InvalidAction). In Rancher 1.6 the action is
	// offered only to a key whose role has the modifyInfra capability (an
	// environment API key, or an owner, member or project role); a restricted
	// or read-only key never sees it.
	ErrActionMissing = errors.New("the Rancher API key may not open the host's Docker socket: its role lacks the modifyInfra capability (an environment API key, or an owner or member role, has it)")
	// ErrHostNotActive: the host is not in a state that offers the action
	// (active, inactive, activating, deactivating), or its agent is away.
	// Count it like an unreachable host.
	ErrHostNotActive = errors.New("the Rancher host is not active or its agent is disconnected")
	// ErrTokenRefused: Rancher refused the websocket's token (bad, expired or
	// already used).
	ErrTokenRefused = errors.New("rancher refused the dockersocket token")
	// ErrRelayClosed: the websocket closed before or while dockerd answered. A
	// request cut this way may be retried like one on a dropped TCP connection.
	ErrRelayClosed = errors.New("the dockersocket websocket through Rancher closed")
	// ErrInsecureURL: Rancher answered a ws:// URL while the dialer requires wss://.
	ErrInsecureURL = errors.New("rancher answered an unencrypted ws:// dockersocket URL for an https server")
)

// redacted is an error whose text had a token removed. It unwraps only to the
// sentinels and context errors it was given, never to the error that held the token.
type redacted struct {
	msg  string
	errs []error
}

func (e *redacted) Error() string   { return e.msg }
func (e *redacted) Unwrap() []error { return e.errs }

// redact removes token (raw and query-escaped) from s.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "REDACTED")
	return strings.ReplaceAll(s, url.QueryEscape(token), "REDACTED")
}

// stripQuery drops the query string (where the token travels) from a URL.
func stripQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}
