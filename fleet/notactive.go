package fleet

import (
	"fmt"
	"slices"

	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rancher/dockersocket"
)

// NotActiveError is why a host Rancher lists is not reached: Rancher
// reports it not active (deactivated, or its agent disconnected or
// reconnecting), so Rancher schedules nothing there. Such a host stays a
// target (Target.NotActive) and counts like an unreachable host: it is
// never dialled (no Docker call, no dockersocket action), each of its
// images fails (pull) or is unreachable (status), and errors.Is holds for
// both ErrUnreachable and dockersocket.ErrHostNotActive.
type NotActiveError struct {
	Host, Env string
	// State and AgentState are Rancher's (AgentState "" when it reports none).
	State, AgentState string
}

func (e *NotActiveError) Error() string {
	agentAway := e.AgentState != "" && e.AgentState != rancher.StateActive
	what, todo := "state "+e.State, "activate the host in Rancher"
	switch {
	case agentAway && e.State != e.AgentState && e.State != rancher.StateActive:
		what += ", agent " + e.AgentState
		todo += " and bring its agent back"
	case agentAway:
		what, todo = "agent "+e.AgentState, "bring the host's Rancher agent back"
	}
	return fmt.Sprintf("Rancher says %s, so it is not reached (counted as unreachable): %s, or remove it from the environment in Rancher", what, todo)
}

func (e *NotActiveError) Unwrap() []error {
	return []error{ErrUnreachable, dockersocket.ErrHostNotActive}
}

// goneStates are the host states of a host Rancher removed: not part of
// the fleet any more, so not a target (a removed host's record lingers
// until it is purged).
var goneStates = []string{"removing", "removed", "purging", "purged"}

// notActive is the error for host h (named name in environment env), or
// nil when Rancher reports it active.
func notActive(h *rancher.Host, name, env string) *NotActiveError {
	if h.Active() {
		return nil
	}
	return &NotActiveError{Host: name, Env: env, State: h.State, AgentState: h.AgentState}
}

// gone reports whether Rancher removed host h.
func gone(h *rancher.Host) bool {
	return slices.Contains(goneStates, h.State)
}
