package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrAuth is wrapped by errors from a registry that refused the credentials
// (401) or the access (403). Such requests are never retried.
var ErrAuth = errors.New("authentication failed")

// ErrTLS is wrapped by errors from a registry not marked insecure whose TLS
// failed (an untrusted or wrong certificate, or a server that speaks plain
// HTTP). Drover then never falls back to plain HTTP, and does not retry.
var ErrTLS = errors.New("TLS failed")

// ErrInvalidOption is wrapped by errors from options given invalid values.
var ErrInvalidOption = errors.New("invalid option")

// ErrTagMoved is wrapped by *TagMovedError.
var ErrTagMoved = errors.New("tag moved since the lock was written")

// ErrSourceChanged is wrapped by Resolve's error when the previous lock was
// resolved at another source registry than the inventory's (WithRelock
// accepts it).
var ErrSourceChanged = errors.New("source registry changed since the lock was written")

// HTTPError is a registry's answer that was not what the protocol expects.
type HTTPError struct {
	Registry string // registry address
	Method   string
	Path     string
	Status   int
	Code     string // registry error code, e.g. "BLOB_UNKNOWN", when given
	Message  string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s %s%s: %d %s", e.Method, e.Registry, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		s += " (check the credentials for " + e.Registry + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrAuth) true for 401 and 403.
func (e *HTTPError) Is(target error) bool {
	return target == ErrAuth && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

func retriableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

func readHTTPError(addr string, req *http.Request, resp *http.Response) *HTTPError {
	e := &HTTPError{Registry: addr, Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var doc struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &doc) == nil && len(doc.Errors) > 0 {
		e.Code, e.Message = doc.Errors[0].Code, doc.Errors[0].Message
	} else if req.Method != http.MethodHead {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "..."
		}
	}
	return e
}

// TagMovedError says a release tag now points at a different digest than the
// previous lock recorded.
type TagMovedError struct {
	Image   string // release image name
	Ref     string // source reference
	Locked  string // digest in the lock
	Current string // digest the tag resolves to now
}

func (e *TagMovedError) Error() string {
	return fmt.Sprintf("image %s: %s now resolves to %s but the lock has %s (the tag moved, or the platform filter changed); rerun with --relock to accept the new digest",
		e.Image, e.Ref, e.Current, e.Locked)
}

// Unwrap returns ErrTagMoved.
func (e *TagMovedError) Unwrap() error { return ErrTagMoved }
