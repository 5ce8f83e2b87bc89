package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

// TestFlagValues: a flag value an option would refuse is an exit-2 error
// naming the flag as typed, once, before any host or registry is called
// (was: prune --keep -1 exited 1 repeating the error per host,
// --registry-limit -1 was accepted, others named the option).
func TestFlagValues(t *testing.T) {
	t.Parallel()
	l := newMirrorLab(t)
	write(t, l.hosts, fmt.Sprintf("version: 1\nregistries:\n  source:\n    address: %s\n    insecure: true\n  regions:\n    eu:\n      address: %s\n      insecure: true\n"+
		"environments:\n  - name: dev\n    region: eu\n    hosts:\n      - {name: dev-01, docker: \"tcp://127.0.0.1:1\"}\n      - {name: dev-02, docker: \"tcp://127.0.0.1:2\"}\n",
		l.src.Addr(), l.regions[0].Addr()))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"prune", "--repo", "team/app", "--keep", "-1"}, "--keep -1: want 0 or more"},
		{[]string{"pull", "--registry-limit", "-1"}, "--registry-limit -1: want at least 1"},
		{[]string{"pull", "--registry-limit", "0"}, "--registry-limit 0: want at least 1"},
		{[]string{"pull", "--retries", "-1"}, "--retries -1: want 0 or more"},
		{[]string{"status", "--concurrency", "0"}, "--concurrency 0: want at least 1"},
		{[]string{"status", "--timeout", "0s"}, "--timeout 0s: want more than 0"},
		{[]string{"mirror", "-f", l.release, "--jobs", "0"}, "--jobs 0: want at least 1"},
		{[]string{"plan", "-f", l.release, "--jobs", "-3"}, "--jobs -3: want at least 1"},
		{[]string{"mirror", "-f", l.release, "--platform", "linux"}, `--platform "linux": want os/arch[/variant]`},
		{[]string{"plan", "-f", l.release, "--platform", "linux/amd64,/arm64"}, `--platform "/arm64": want os/arch[/variant]`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, _, errOut := l.run(t, tt.args...)
			if code != cli.ExitUsage || strings.Count(errOut, tt.want) != 1 {
				t.Errorf("exit %d (want 2), stderr should say %q once:\n%s", code, tt.want, errOut)
			}
		})
	}
}

// TestMirrorValidatesInventory: mirror and plan read the inventory as
// strictly as every other command (was: they skipped validation).
func TestMirrorValidatesInventory(t *testing.T) {
	t.Parallel()
	l := newMirrorLab(t)
	write(t, l.hosts, fmt.Sprintf("version: 1\nregistries:\n  source:\n    address: %s\n    insecure: true\n  regions:\n    eu:\n      address: %s\n      insecure: true\n"+
		"environments:\n  - name: dev\n    region: nowhere\n    hosts:\n      - {name: dev-01, docker: \"tcp://127.0.0.1:1\"}\n",
		l.src.Addr(), l.regions[0].Addr()))
	for _, cmd := range []string{"mirror", "plan"} {
		if code, _, errOut := l.run(t, cmd, "-f", l.release); code != cli.ExitUsage || !strings.Contains(errOut, "nowhere") {
			t.Errorf("%s with an environment in an unknown region: exit %d (want 2), stderr %q", cmd, code, errOut)
		}
	}
}
