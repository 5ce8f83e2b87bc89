package main

import (
	"bytes"
	"slices"
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

// TestGateCommandsNoPlatform: a host the image has no entry for is left out
// of the printed pull (it would fail the same way); a host that only lacks
// the image is still in it.
func TestGateCommandsNoPlatform(t *testing.T) {
	t.Parallel()
	env := &cli.Env{Tool: "rollout", ConfigFlag: "hosts.yaml", Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	sf := &scopeFlags{release: "release.yaml"}
	for _, tc := range []struct {
		name    string
		missing []rollout.Missing
		want    []string
	}{
		{"every host no-platform", []rollout.Missing{
			{Host: "qa-01", Image: "r/app:1.1", NoPlatform: true},
			{Host: "qa-02", Image: "r/app:1.1", NoPlatform: true},
		}, nil},
		{"one of two", []rollout.Missing{
			{Host: "qa-01", Image: "r/app:1.1"},
			{Host: "qa-02", Image: "r/app:1.1", NoPlatform: true},
		}, []string{"prewarm pull -c hosts.yaml -f release.yaml --hosts qa-01   # qa: or rerun with --prewarm"}},
		// A host Rancher lists but the inventory does not: prewarm pull
		// --hosts refuses it, --prewarm cannot reach it.
		{"not in the inventory", []rollout.Missing{
			{Host: "qa-01", Image: "r/app:1.1"},
			{Host: "qa-03", Image: "r/app:1.1", NotInInventory: true},
		}, []string{"prewarm pull -c hosts.yaml -f release.yaml --hosts qa-01   # qa: or rerun with --prewarm"}},
		{"only not in the inventory", []rollout.Missing{
			{Host: "qa-03", Image: "r/app:1.1", NotInInventory: true},
		}, nil},
		// Rancher refused the key access to the host: prewarm, with the
		// same key, would be refused too.
		{"refused", []rollout.Missing{
			{Host: "qa-01", Image: "r/app:1.1"},
			{Host: "qa-02", Image: "r/app:1.1", Refused: true},
		}, []string{"prewarm pull -c hosts.yaml -f release.yaml --hosts qa-01   # qa: or rerun with --prewarm"}},
	} {
		rep := &rollout.Report{Envs: []rollout.EnvReport{{Env: "qa", Status: rollout.EnvGated,
			Gate: &rollout.GateStatus{Missing: tc.missing}}}}
		if got := gateCommands(env, rep, "apply", sf); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
