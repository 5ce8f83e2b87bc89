package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/cli/clitest"
	"github.com/drover-dev/drover/rollout"
)

// TestGateCommandsParse: a closed gate of rollback (or of apply with
// --service) printed "# dev: rerun with --prewarm ...", a comment, not a
// command. It now prints the same command with --prewarm, and that command
// parses with the subcommand's own flags.
func TestGateCommandsParse(t *testing.T) {
	t.Parallel()
	rep := &rollout.Report{Envs: []rollout.EnvReport{{Env: "dev", Status: rollout.EnvGated,
		Gate: &rollout.GateStatus{Missing: []rollout.Missing{{Host: "dev-02", Image: "r/app:1.0"}}}}}}
	env := &cli.Env{Tool: "rollout", ConfigFlag: "my hosts.yaml", Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	for _, tc := range []struct {
		verb string
		sf   *scopeFlags
	}{
		{"rollback", &scopeFlags{release: "rel/release.yaml", services: []string{"web/svc01"}}},
		{"apply", &scopeFlags{services: []string{"web/svc01=r/app:1.1"}}},
	} {
		cmds := gateCommands(env, rep, tc.verb, tc.sf)
		if len(cmds) != 1 || strings.HasPrefix(cmds[0], "#") {
			t.Fatalf("%s: gate commands %q, want one command", tc.verb, cmds)
		}
		argv, err := clitest.Split(cmds[0])
		if err != nil {
			t.Fatal(err)
		}
		if argv[0] != "rollout" || argv[1] != tc.verb {
			t.Fatalf("%s: %q", tc.verb, argv)
		}
		var cmd *cli.Command
		for _, c := range commands() {
			if c.Name == tc.verb {
				cmd = c
			}
		}
		fs := pflag.NewFlagSet(tc.verb, pflag.ContinueOnError)
		fs.StringP("config", "c", "", "")
		cmd.Flags(fs)
		if err := fs.Parse(argv[2:]); err != nil {
			t.Fatalf("%s: %q does not parse: %v", tc.verb, cmds[0], err)
		}
		if p, _ := fs.GetBool("prewarm"); !p {
			t.Errorf("%s: %q: no --prewarm", tc.verb, cmds[0])
		}
		if c, _ := fs.GetString("config"); c != "my hosts.yaml" {
			t.Errorf("%s: -c %q, want the inventory given", tc.verb, c)
		}
	}
}
