package dockersocket_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/drover-dev/drover/rancher/dockersocket"
)

// TestCheckHostAndRefusal: the one classification of a host resource and of
// Rancher's refusals into the package's sentinels (package rancher asks for
// access by it).
func TestCheckHostAndRefusal(t *testing.T) {
	t.Parallel()
	action := map[string]string{"dockersocket": "https://r.example/v2-beta/projects/1a5/hosts/1h1/?action=dockersocket"}
	for _, tc := range []struct {
		name, state, agent string
		actions            map[string]string
		want               error
		text               string
	}{
		{name: "active", state: "active", actions: action},
		{name: "agent active", state: "active", agent: "active", actions: action},
		{name: "inactive still offers it", state: "inactive", actions: action},
		{name: "activating", state: "activating", actions: action},
		{name: "deactivating", state: "deactivating", actions: action},
		{name: "reconnecting", state: "reconnecting", actions: action, want: dockersocket.ErrHostNotActive, text: "host h1 is reconnecting"},
		{name: "agent away", state: "active", agent: "disconnected", actions: action, want: dockersocket.ErrHostNotActive, text: "host h1 is active, agent disconnected"},
		{name: "no action for this key", state: "active", want: dockersocket.ErrActionMissing, text: "host h1 offers this key no dockersocket action: "},
	} {
		err := dockersocket.CheckHost("h1", tc.state, tc.agent, tc.actions)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: CheckHost: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) || err == nil || !strings.HasPrefix(err.Error(), tc.text) {
			t.Errorf("%s: CheckHost: %v, want %v starting %q", tc.name, err, tc.want, tc.text)
		}
	}
	for _, tc := range []struct {
		status int
		code   string
		want   error
	}{
		{403, "Forbidden", dockersocket.ErrActionMissing},
		{422, "InvalidAction", dockersocket.ErrActionMissing},
		{422, "ActionNotAvailable", dockersocket.ErrHostNotActive},
		{422, "InvalidState", nil},
		{500, "ServerError", nil},
		{401, "Unauthorized", nil},
	} {
		if got := dockersocket.Refusal(tc.status, tc.code); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("Refusal(%d, %s) = %v, want %v", tc.status, tc.code, got, tc.want)
		}
	}
}
