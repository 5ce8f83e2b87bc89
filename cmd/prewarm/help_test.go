package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
)

// TestSeedHelp: seed's --env takes exactly one environment (no "default:
// all"), and --lock reads as in rollout (cli.LockUsage).
func TestSeedHelp(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := cli.Main(t.Context(), "prewarm", commands(), []string{"seed", "--help"}, &out, &errb); code != cli.ExitOK {
		t.Fatalf("seed --help: exit %d", code)
	}
	h := errb.String()
	var env string
	for _, l := range strings.Split(h, "\n") {
		if strings.Contains(l, "--env ") {
			env = l
		}
	}
	if strings.Contains(env, "default: all") || !strings.Contains(env, "exactly one") {
		t.Errorf("seed --help: --env reads %q, want exactly one environment", env)
	}
	if !strings.Contains(h, cli.LockUsage) {
		t.Errorf("seed --help: --lock does not read %q:\n%s", cli.LockUsage, h)
	}
}

// TestStatusHelpStates: status --help names every state a cell can be in
// (it lacked no-platform and wrong-platform) and the platform column.
func TestStatusHelpStates(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := cli.Main(t.Context(), "prewarm", commands(), []string{"status", "--help"}, &out, &errb); code != cli.ExitOK {
		t.Fatalf("status --help: exit %d", code)
	}
	h := errb.String()
	for _, s := range []fleet.State{fleet.StatePresent, fleet.StateMissing, fleet.StateWrongDigest, fleet.StateUnreachable,
		fleet.StateNoPlatform, fleet.StateWrongPlatform} {
		if !strings.Contains(h, string(s)) {
			t.Errorf("status --help lacks the state %s:\n%s", s, h)
		}
	}
	if !strings.Contains(h, "PLATFORM") {
		t.Errorf("status --help does not name the PLATFORM column:\n%s", h)
	}
}
