package lease

import (
	"errors"
	"fmt"
	"time"

	"github.com/drover-dev/drover/internal/shown"
)

// ErrHeld is matched (errors.Is) by a [*HeldError].
var ErrHeld = errors.New("lease held by another run")

// ErrLost means a lease stopped being ours while we held it: it was removed (a human
// ran an unlock, or another run took it over after renewals had failed past its expiry).
var ErrLost = errors.New("lease lost")

// HeldError is returned by [Manager.Acquire] when another run holds the environment.
type HeldError struct {
	Env    string
	Holder Holder
}

func (e *HeldError) Error() string {
	h := e.Holder
	return fmt.Sprintf("environment %s is held by %s on %s running %q since %s (lease %s, expires %s unless renewed)",
		e.Env, clip(h.Who), clip(h.Where), clip(h.Command), h.Since.UTC().Format(time.RFC3339), clip(h.ID),
		h.ExpiresAt.UTC().Format(time.RFC3339))
}

// maxShown bounds each value an error echoes from the server: a lease's
// holder fields are any Rancher user's to write, and its messages a body
// of up to 16 MiB.
const maxShown = 256

// Shown is a value read from the server (a holder's who, where, command
// or id) as a message shows it: clipped, control characters as spaces.
func Shown(s string) string { return clip(s) }

// clip is s as an error shows it (shown.Clip to maxShown bytes).
func clip(s string) string { return shown.Clip(s, maxShown) }

// Is reports whether target is [ErrHeld].
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// APIError is an error answer from the Rancher API.
type APIError struct {
	Method, URL string
	Status      int
	Code        string
	Message     string
}

func (e *APIError) Error() string {
	msg := clip(e.Code)
	if e.Message != "" && e.Message != e.Code {
		msg += ": " + clip(e.Message)
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, clip(e.URL), e.Status, msg)
}
