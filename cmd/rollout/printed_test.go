package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/cli/clitest"
	"github.com/drover-dev/drover/internal/lab"
)

// buildPrewarm builds the prewarm binary: rollout prints prewarm commands
// (pull onto the hosts a gate found without the image, mirror a release
// whose lock is missing or stale), and they must run as printed too.
func buildPrewarm(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build prewarm: %v", err)
	}
	out := filepath.Join(t.TempDir(), "prewarm")
	if b, err := exec.CommandContext(t.Context(), gobin, "build", "-o", out, "github.com/drover-dev/drover/cmd/prewarm").CombinedOutput(); err != nil {
		t.Fatalf("go build prewarm: %v\n%s", err, b)
	}
	return out
}

// printed runs every command in text exactly as printed (rollout through
// its run function, prewarm through its binary) and fails the test on a
// usage error (exit 2) or on an exit code other than want. It returns how
// many commands ran, by tool and subcommand ("rollout finish").
func (c *labCLI) printed(t *testing.T, ctx context.Context, prewarm, text string, want int) []string {
	t.Helper()
	cmds, err := clitest.Commands(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) == 0 {
		t.Fatalf("no command printed in:\n%s", text)
	}
	var ran []string
	for _, words := range cmds {
		var out, errb bytes.Buffer
		var code int
		switch words[0] {
		case "rollout":
			code = cli.Main(ctx, "rollout", commands(), words[1:], &out, &errb)
		case "prewarm":
			cmd := exec.CommandContext(ctx, prewarm, words[1:]...)
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatalf("%q: %v", words, err)
				}
				code = ee.ExitCode()
			}
		}
		if code == cli.ExitUsage || code != want {
			t.Errorf("printed command %q: exit %d, want %d (a printed command must run as printed)\n%s%s", words, code, want, out.String(), errb.String())
		}
		ran = append(ran, words[0]+" "+words[1])
	}
	return ran
}

// TestPrintedCommandsRun collects every kind of command the tools print for
// a human and runs it, as printed, against a lab: the lock hints (missing,
// stale), the gate's prewarm pull, status's "to resolve" lines (the same
// commands exit 3 prints), the pre-flight's finish and rollback, and
// rollback -f's "to deploy it anyway", and a one-off --service's gate
// (apply again with --prewarm and the run's flags, which runs to the end:
// it used to drop --soak and --finish). They used to put -c before the
// subcommand: rollout -c hosts.yaml finish ... (unknown command "-c").
func TestPrintedCommandsRun(t *testing.T) {
	c := newLabCLI(t, func(cfg *lab.Config) { cfg.Images = append(cfg.Images, "app:1.2") })
	prewarm := buildPrewarm(t)
	quick := []string{"--soak", "0s", "--upgrade-timeout", "30s"}
	rel11, err := os.ReadFile(c.rel)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string

	// No lock: the hint writes it.
	lock := filepath.Join(filepath.Dir(c.rel), "release.lock.json")
	if err := os.Rename(lock, lock+".bak"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := c.run(t, "plan", "-f", c.rel)
	if code != cli.ExitUsage || !strings.Contains(stderr, "write it with `prewarm mirror -c "+c.inv+" -f "+c.rel+"`") {
		t.Fatalf("plan without a lock: exit %d, want 2 and the command that writes it:\n%s", code, stderr)
	}
	kinds = append(kinds, c.printed(t, t.Context(), prewarm, stderr, cli.ExitOK)...)

	// A stale lock: the hint locks the release again.
	writeFile(t, c.rel, strings.Replace(string(rel11), "app:1.1", "app:1.0", 1))
	code, _, stderr = c.run(t, "plan", "-f", c.rel)
	src := c.l.Inventory().Registries.Source.Address
	if code != cli.ExitUsage || !strings.Contains(stderr, "image app: the release has "+src+"/app:1.0, the lock has "+src+"/app:1.1") ||
		!strings.Contains(stderr, "lock the release again with `prewarm mirror") {
		t.Fatalf("plan with a stale lock: exit %d, want 2 and the command that locks the release again:\n%s", code, stderr)
	}
	kinds = append(kinds, c.printed(t, t.Context(), prewarm, stderr, cli.ExitOK)...)
	if code, stdout, stderr := c.run(t, "plan", "-f", c.rel); code != cli.ExitOK || !strings.Contains(stdout, c.region+"/app:1.0") || strings.Contains(stdout, "app:1.1") {
		t.Fatalf("plan after the printed mirror: exit %d, want app:1.0 only:\n%s%s", code, stdout, stderr)
	}
	writeFile(t, c.rel, string(rel11))
	code, _, stderr = c.run(t, "status", "--env", "dev", "-f", c.rel)
	if code != cli.ExitUsage {
		t.Fatalf("status with a stale lock: exit %d, want 2:\n%s", code, stderr)
	}
	c.printed(t, t.Context(), prewarm, stderr, cli.ExitOK)

	// A closed gate: the printed prewarm pull puts the image on the hosts.
	code, _, stderr = c.run(t, "apply", "-f", c.rel, "--gate-timeout", "0s")
	if code != cli.ExitFailed || !strings.Contains(stderr, "gate closed") {
		t.Fatalf("gated apply: exit %d:\n%s", code, stderr)
	}
	kinds = append(kinds, c.printed(t, t.Context(), prewarm, stderr, cli.ExitOK)...)

	// status of a pending upgrade: finish (or rollback).
	if code, stdout, stderr := c.run(t, append([]string{"apply", "-f", c.rel, "--gate-timeout", "0s", "--finish", "manual"}, quick...)...); code != cli.ExitOK {
		t.Fatalf("apply --finish manual after the printed pull: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ := c.run(t, "status", "--env", "dev", "-f", c.rel)
	if code != cli.ExitOK || !strings.Contains(stdout, "to resolve") {
		t.Fatalf("status: exit %d, want commands to resolve:\n%s", code, stdout)
	}
	statusText := stdout

	// The pre-flight of another apply stops at the pending upgrade and
	// prints finish and rollback; the rollback runs (Rancher's, quick).
	code, _, stderr = c.run(t, "apply", "-f", c.rel)
	if code == cli.ExitOK || code == cli.ExitUsage || !strings.Contains(stderr, "pre-flight") {
		t.Fatalf("apply over a pending upgrade: exit %d, want the pre-flight to stop it:\n%s", code, stderr)
	}
	var preflight string
	for line := range strings.Lines(stderr) {
		if strings.Contains(line, "pre-flight") {
			_, preflight, _ = strings.Cut(line, "go back to")
		}
	}
	kinds = append(kinds, c.printed(t, t.Context(), prewarm, preflight, cli.ExitOK)...)
	if state, img := c.image(t); state != "active" || img != c.region+"/app:1.0" {
		t.Fatalf("after the printed rollback: %s %s, want active app:1.0", state, img)
	}

	// Pending again: status's commands, finish first (rollback then has
	// nothing pending and upgrades back, which a cancelled run only starts).
	if code, stdout, stderr := c.run(t, append([]string{"apply", "-f", c.rel, "--finish", "manual"}, quick...)...); code != cli.ExitOK {
		t.Fatalf("apply --finish manual: exit %d\n%s%s", code, stdout, stderr)
	}
	finishLine, _, _ := strings.Cut(statusText[strings.Index(statusText, "rollout finish"):], "#")
	kinds = append(kinds, c.printed(t, t.Context(), prewarm, finishLine, cli.ExitOK)...)
	if state, img := c.image(t); state != "active" || img != c.region+"/app:1.1" {
		t.Fatalf("after the printed finish: %s %s, want active app:1.1", state, img)
	}

	// rollback -f twice: the second leaves the service and prints how to
	// deploy the release anyway. That command upgrades back, soaking for
	// the default 30s: run it with the context cancelled (as by Ctrl-C),
	// which is past its flags, inventory and lock.
	if code, stdout, stderr := c.run(t, append([]string{"rollback", "--env", "dev", "-f", c.rel}, quick...)...); code != cli.ExitOK {
		t.Fatalf("rollback: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = c.run(t, append([]string{"rollback", "--env", "dev", "-f", c.rel}, quick...)...)
	_, anyway, ok := strings.Cut(stdout, "to deploy it anyway: ")
	if code != cli.ExitOK || !ok {
		t.Fatalf("second rollback -f: exit %d, want the command that deploys it anyway:\n%s", code, stdout)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	kinds = append(kinds, c.printed(t, cancelled, prewarm, anyway, cli.ExitFailed)...)

	// A closed gate of a one-off --service: the printed command is the
	// same apply again with --prewarm and the flags given (the soak, the
	// finish), and it deploys app:1.2, which no host held.
	v12 := c.region + "/app:1.2"
	code, _, stderr = c.run(t, append([]string{"apply", "--service", "web/svc01=" + v12, "--gate-timeout", "0s", "--finish", "manual"}, quick...)...)
	if code != cli.ExitFailed || !strings.Contains(stderr, "gate closed") || !strings.Contains(stderr, "--finish manual") {
		t.Fatalf("gated apply --service: exit %d, want 1 and the rerun with its flags:\n%s", code, stderr)
	}
	kinds = append(kinds, c.printed(t, t.Context(), prewarm, stderr, cli.ExitOK)...)
	if state, img := c.image(t); state != "upgraded" || img != v12 {
		t.Fatalf("after the printed apply --prewarm: %s %s, want upgraded (--finish manual) %s", state, img, v12)
	}

	slices.Sort(kinds)
	for _, want := range []string{"prewarm mirror", "prewarm pull", "rollout apply", "rollout finish", "rollout rollback"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no printed %s ran (ran: %q)", want, slices.Compact(kinds))
		}
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
