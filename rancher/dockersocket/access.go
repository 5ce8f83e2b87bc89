package dockersocket

import (
	"fmt"
	"net/http"
	"slices"
)

// offeredStates are the host states in which Cattle offers dockersocket
// (rancher/cattle resources/content/schema/base/host.json).
var offeredStates = []string{"active", "inactive", "activating", "deactivating"}

// CheckHost is nil when a host (named name in errors) in state state, its
// agent in agentState ("" when Rancher reports none), with the actions map
// actions, offers the dockersocket action to the key that read it.
// Otherwise it is an error wrapping [ErrHostNotActive] (another state, or the
// agent away) or [ErrActionMissing] (no action for this key). It is the one
// reading of a host resource that the Rancher client (package rancher)
// asks for an [AccessFunc] by.
func CheckHost(name, state, agentState string, actions map[string]string) error {
	agentAway := agentState != "" && agentState != "active"
	if !slices.Contains(offeredStates, state) || agentAway {
		st := state
		if agentAway {
			st += ", agent " + agentState
		}
		return fmt.Errorf("host %s is %s: %w", name, st, ErrHostNotActive)
	}
	if actions["dockersocket"] == "" {
		return fmt.Errorf("host %s offers this key no dockersocket action: %w", name, ErrActionMissing)
	}
	return nil
}

// Refusal is the sentinel for Rancher's error answer (HTTP status and the
// error's code) to the dockersocket action: [ErrActionMissing] for 403 and
// 422 InvalidAction (the key's role lacks modifyInfra), [ErrHostNotActive]
// for 422 ActionNotAvailable (the host changed state meanwhile), nil for any
// other answer.
func Refusal(status int, code string) error {
	switch {
	case status == http.StatusForbidden, status == http.StatusUnprocessableEntity && code == "InvalidAction":
		return ErrActionMissing
	case status == http.StatusUnprocessableEntity && code == "ActionNotAvailable":
		return ErrHostNotActive
	}
	return nil
}
