package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
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
