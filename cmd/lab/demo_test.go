package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

// tools builds prewarm and rollout into a temporary directory once.
func tools(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds prewarm and rollout")
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", dir+string(os.PathSeparator), "github.com/drover-dev/drover/cmd/prewarm", "github.com/drover-dev/drover/cmd/rollout")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the tools: %v\n%s", err, out)
	}
	return dir
}

var small = []string{"--image-size", "64KiB", "--envs", "4", "--hosts-per-env", "2", "--services", "2",
	"--host-link", "none", "--soak", "100ms", "--upgrade-timeout", "2s", "--health-delay", "20ms", "--batch-interval", "100"}

// TestDemo runs the whole story small: every step's command, exit code and
// key output, in order.
func TestDemo(t *testing.T) {
	t.Parallel()
	bin := tools(t)
	var out, errb bytes.Buffer
	code := cli.Main(t.Context(), "lab", commands(), append([]string{"demo", "--bin", bin}, small...), &out, &errb)
	got := out.String()
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), got)
	}
	// Each step: the command line, then how it ended, in story order.
	want := []string{
		"== 1/6 Start the lab", "dev ", "tcp:// endpoint", "qa ", "demo ", "dmz-eu-west ", "through Rancher",
		"the DMZ environments (dmz-eu-west) expose no Docker endpoint", "discover: {from: rancher, docker: rancher}",
		"== 2/6", "$ prewarm run -c hosts.yaml -f app-1.1/release.yaml", "8 hosts, 0 not ready", "-> exit 0",
		"every host fetched the 2 new layers",
		"demo's hosts are Windows 10.0.20348", "$ prewarm status -c hosts.yaml -f app-1.1/release.yaml --env demo", "PLATFORM", "windows/amd64 10.0.20348", "-> exit 0",
		"== 3/6", "$ rollout apply -c hosts.yaml", "-f app-1.1/release.yaml", "dev: done", "demo: done", "dmz-eu-west: done", "-> exit 0",
		"the hosts fetched 0 B",
		"== 4/6", "$ rollout rollback", "--env dev,qa,demo,dmz-eu-west", "-> exit 0",
		"== 5/6", "rancher:never-healthy-image=*/app:1.2", "$ prewarm run", "app-1.2/release.yaml", "-> exit 0",
		"$ rollout apply", "app-1.2/release.yaml", "rolled-back", "dev: failed (web/svc", "qa: not-started", "demo: not-started", "dmz-eu-west: not-started", "-> exit 1",
		"== 6/6", "$ prewarm mirror", "app-1.3/release.yaml", "-> exit 0", "$ rollout apply", "--prewarm", "dev: done", "dmz-eu-west: done", "-> exit 0",
		"pulling during the deploy:",
		"== Timings ==", "total", "The story held",
	}
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q after the earlier steps:\n%s", w, got)
		}
		rest = rest[i+len(w):]
	}
	// No secret values: the env file's values never reach the output.
	if regexp.MustCompile(`_(ACCESS|SECRET)_KEY=`).MatchString(got) {
		t.Errorf("output shows a key:\n%s", got)
	}
	// The temporary directory is gone.
	m := regexp.MustCompile(`in (\S*drover-demo-\S*): hosts.yaml`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no directory named:\n%s", got)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("%s still exists: %v", m[1], err)
	}
}

// TestDemoBrokenStory: a step that does not behave as told fails the demo
// (exit 1) and names the step. Here the rollout binary always exits 0.
func TestDemoBrokenStory(t *testing.T) {
	t.Parallel()
	bin := tools(t)
	fake := filepath.Join(bin, "rollout")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'pretending'\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := cli.Main(t.Context(), "lab", commands(), append([]string{"demo", "--bin", bin}, small...), &out, &errb)
	if code != cli.ExitFailed || !strings.Contains(out.String(), "STORY BROKEN at step 3") {
		t.Errorf("exit %d, want 1 with the broken step named:\n%s\n%s", code, out.String(), errb.String())
	}
}

func TestDemoUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"demo", "--bin", t.TempDir()}, // no tools there
		{"demo", "--image-size", "big"},
		{"demo", "--base", "8"},
		{"demo", "--host-link", "fast"},
		{"demo", "extra"},
	} {
		var out, errb bytes.Buffer
		if code := cli.Main(t.Context(), "lab", commands(), args, &out, &errb); code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, cli.ExitUsage, errb.String())
		}
	}
}
