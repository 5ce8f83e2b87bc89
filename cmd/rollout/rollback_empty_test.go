package main

import (
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

// TestLabRollbackNothing: after a finished release, `rollout rollback --env
// dev` (no -f, no --service) finds no pending upgrade. It used to print
// "done" and exit 0 having rolled back nothing; now it exits 1, says there
// was nothing to roll back and what to add, and the command it suggests
// rolls the service back. It prints only the error (no empty table).
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
	if stdout != "" {
		t.Errorf("empty rollback printed a report (want only the error):\n%s", stdout)
	}
	for _, want := range []string{"nothing to roll back", "no service of dev has a pending upgrade", "-f release.yaml", "--service NAME"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if state, img := c.image(t); state != "active" || img == v10 {
		t.Fatalf("service %s %s after the empty rollback, want it left at app:1.1", state, img)
	}
	// Subcommand first, as every printed command; run as printed, but
	// for the soak (the default 30s).
	want := "rollout rollback -c " + c.inv + " --env dev --service web/svc01"
	if !strings.Contains(stderr, "`"+want+"`") {
		t.Fatalf("no suggested `%s` in:\n%s", want, stderr)
	}
	args := strings.Fields(want)[1:]
	if code, stdout, stderr = c.run(t, append(args, quick...)...); code != cli.ExitOK {
		t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	if state, img := c.image(t); state != "active" || img != v10 {
		t.Errorf("after the suggested command: %s %s, want active %s", state, img, v10)
	}
}
