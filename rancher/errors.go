package rancher

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/drover-dev/drover/internal/shown"
)

// Sentinels for decisions. Both errors from the server (*APIError) and
// errors found locally match them with errors.Is.
var (
	// ErrNotFound: 404, or a lookup by name that found nothing.
	ErrNotFound = errors.New("not found")
	// ErrConflict: 409, the resource is busy or a concurrent change won.
	ErrConflict = errors.New("conflict")
	// ErrActionNotAvailable: the action is not allowed in the resource's
	// current state (422 ActionNotAvailable, or refused locally because the
	// resource's actions map does not list it).
	ErrActionNotAvailable = errors.New("action not available")
	// ErrAuth: 401 or 403, the keys are wrong or cannot reach the project.
	ErrAuth = errors.New("not authorized")
)

// IsNotFound reports whether err matches ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err matches ErrConflict.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsActionNotAvailable reports whether err matches ErrActionNotAvailable.
func IsActionNotAvailable(err error) bool { return errors.Is(err, ErrActionNotAvailable) }

// IsAuth reports whether err matches ErrAuth.
func IsAuth(err error) bool { return errors.Is(err, ErrAuth) }

// APIError is a non-2xx answer from the server. Code, Message, FieldName and
// Detail come from Rancher's error body when there is one (any of them may
// be empty: the server sends null or leaves keys out); for a body that is not
// a Rancher error (a proxy's HTML page, say) Code is the HTTP status text and
// Message the start of the body.
type APIError struct {
	Status    int
	Code      string
	Message   string
	FieldName string
	Detail    string
	Method    string // the request's method
	URL       string // the request's URL (no credentials)
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rancher: %s %s: %d", e.Method, clip(e.URL), e.Status)
	if e.Code != "" {
		b.WriteString(" " + clip(e.Code))
	}
	msg, field := clip(e.Message), clip(e.FieldName)
	switch {
	case e.Message != "" && e.FieldName != "":
		fmt.Fprintf(&b, ": %s (field %s)", msg, field)
	case e.Message != "" && e.Message != e.Code:
		b.WriteString(": " + msg)
	case e.FieldName != "":
		// InvalidOption puts its human text in fieldName with message null.
		b.WriteString(": " + field)
	}
	if e.Detail != "" {
		b.WriteString(" (" + clip(e.Detail) + ")")
	}
	return b.String()
}

// maxShown bounds each value of a server's answer an error message echoes:
// Rancher's own messages are a line; a body of 64 KiB is not echoed whole.
const maxShown = 512

// clip is s as an error shows it (shown.Clip to maxShown bytes).
func clip(s string) string { return shown.Clip(s, maxShown) }

// Is matches the sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrActionNotAvailable:
		return e.Code == "ActionNotAvailable"
	case ErrAuth:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

// ActionError is an action refused locally: the resource's actions map,
// re-read once, does not list it.
type ActionError struct {
	Action       string
	ResourceType string
	ResourceID   string
	State        string
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("rancher: action %s not available on %s %s in state %s", e.Action, e.ResourceType, e.ResourceID, e.State)
}

// Is matches ErrActionNotAvailable.
func (e *ActionError) Is(target error) bool { return target == ErrActionNotAvailable }

// notFound is a lookup by name that found nothing.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return "rancher: " + e.what + " not found" }
func (e *notFoundError) Is(target error) bool {
	return target == ErrNotFound
}

// parseAPIError reads an error answer. Every field of Rancher's error body
// may be missing or null; a body that is not JSON is kept as text.
func parseAPIError(method string, u *url.URL, resp *http.Response) *APIError {
	e := &APIError{Status: resp.StatusCode, Method: method, URL: redactURL(u)}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var raw struct {
		Type      *string          `json:"type"`
		Status    *json.RawMessage `json:"status"`
		Code      *string          `json:"code"`
		Message   *string          `json:"message"`
		FieldName *string          `json:"fieldName"`
		Detail    json.RawMessage  `json:"detail"`
	}
	if err := json.Unmarshal(body, &raw); err == nil && (raw.Code != nil || raw.Message != nil || raw.Type != nil) {
		e.Code, e.Message, e.FieldName = deref(raw.Code), deref(raw.Message), deref(raw.FieldName)
		e.Detail = rawText(raw.Detail)
	} else {
		e.Code = http.StatusText(resp.StatusCode)
		e.Message = snippet(body)
	}
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rawText renders detail, which is usually null or a string but may be any
// JSON value.
func rawText(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

// snippet is the start of a non-JSON body, on one line.
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		b = b[:max]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	return s
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
