package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

// TestLabRollbackNothing: after a finished release, `rollout rollback --env
// dev` (no -f, no --service) finds no pending upgrade. It used to print
// "done" and exit 0 having rolled back nothing; now it exits 1, says there
// was nothing to roll back and what to add, and the command it suggests
// rolls the service back.
func TestLabRollbackNothing(t *testing.T) {
	c := newLabCLI(t)
	v10 := c.region + "/app:1.0"
	quick := []string{"--soak", "0s", "--upgrade-timeout", "30s"}
	if code, stdout, stderr := c.run(t, append([]string{"apply", "-f", c.rel, "--prewarm"}, quick...)...); code != cli.ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := c.run(t, "rollback", "--env", "dev")
	if code != cli.ExitFailed {
		t.Errorf("empty rollback: exit %d, want %d\n%s%s", code, cli.ExitFailed, stdout, stderr)
	}
	for _, want := range []string{"nothing to roll back", "no service of dev has a pending upgrade", "-f release.yaml", "--service NAME"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if state, img := c.image(t); state != "active" || img == v10 {
		t.Fatalf("service %s %s after the empty rollback, want it left at app:1.1", state, img)
	}
	m := regexp.MustCompile("`([^`]* rollback --env dev --service web/svc01)`").FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no suggested rollback command for web/svc01 in:\n%s", stderr)
	}
	args := strings.Fields(m[1])
	args = args[slices.Index(args, "rollback"):]
	if code, stdout, stderr = c.run(t, append(args, quick...)...); code != cli.ExitOK {
		t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	if state, img := c.image(t); state != "active" || img != v10 {
		t.Errorf("after the suggested command: %s %s, want active %s", state, img, v10)
	}
}
