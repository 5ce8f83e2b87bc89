package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
)

// TestHelpNoConfig: lab up and demo read no inventory, so their help
// offers no -c/--config (and the flag is refused).
func TestHelpNoConfig(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"up", "demo"} {
		var out, errb bytes.Buffer
		if code := cli.Main(t.Context(), "lab", commands(), []string{cmd, "--help"}, &out, &errb); code != cli.ExitOK {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		if h := errb.String(); strings.Contains(h, "--config") || !strings.Contains(h, "--log-level") {
			t.Errorf("lab %s --help lists --config (or lacks the other globals):\n%s", cmd, h)
		}
		errb.Reset()
		if code := cli.Main(t.Context(), "lab", commands(), []string{cmd, "-c", "hosts.yaml"}, &out, &errb); code != cli.ExitUsage {
			t.Errorf("lab %s -c: exit %d, want 2\n%s", cmd, code, errb.String())
		}
	}
}

// TestHelpListsRancherRelayFaults: lab up --help lists the faults of
// Rancher's dockersocket relay (the action refused, the agent away, the
// relay cut mid-stream), each spelled as ParseFault takes it.
func TestHelpListsRancherRelayFaults(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := cli.Main(t.Context(), "lab", commands(), []string{"up", "--help"}, &out, &errb); code != cli.ExitOK {
		t.Fatalf("up --help: exit %d", code)
	}
	for _, tc := range []struct{ help, example string }{
		{"rancher:dockersocket=STATUS", "rancher:dockersocket=403"},
		{"rancher:agent-down=HOST", "rancher:agent-down=dmz-eu-west-01"},
		{"rancher:agent-up=HOST", "rancher:agent-up=dmz-eu-west-01"},
		{"rancher:relay-drop=BYTES", "rancher:relay-drop=4096"},
	} {
		if !strings.Contains(errb.String(), tc.help) {
			t.Errorf("lab up --help does not list %s", tc.help)
		}
		if _, err := lab.ParseFault(tc.example); err != nil {
			t.Errorf("ParseFault(%q), as the help spells it: %v", tc.example, err)
		}
	}
}
