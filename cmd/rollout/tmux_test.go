package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drover-dev/drover/internal/cli"
)

// TestLabLiveTableTmux runs the rollout binary in an 80x24 tmux (a real
// terminal) against the lab: the live table's lines fit in 80 columns (no
// wrapped line, so redraws do not stack), its header shows once, and the
// batch column shows the batch read from the service's instances, not ?/N;
// a webhook's delivery warnings show above the table, not through it.
// Without tmux it skips, unless DROVER_REQUIRE_DOCKER=1 (CI installs it).
func TestLabLiveTableTmux(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("DROVER_REQUIRE_DOCKER") == "1" {
			t.Fatal("tmux is required (DROVER_REQUIRE_DOCKER=1) but not installed; .ci/run installs it with apt-get")
		}
		t.Skip("tmux is not installed: the 80x24 live-table test needs it (apt-get install tmux)")
	}
	c := newLabCLI(t)
	// A webhook that refuses every event: its warnings come while the
	// table is up, and must land above it like every log line.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook", http.StatusBadRequest)
	}))
	defer refuse.Close()
	dir := t.TempDir()
	bin := filepath.Join(dir, "rollout")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var script strings.Builder
	for _, kv := range c.l.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&script, "export %s=%s\n", k, cli.Quote(v))
	}
	fmt.Fprintf(&script, "%s apply -c %s -f %s --prewarm --soak 0s --upgrade-timeout 30s --notify %s\necho EXIT=$?\nsleep 600\n",
		cli.Quote(bin), cli.Quote(c.inv), cli.Quote(c.rel), cli.Quote(refuse.URL+"/hook"))
	sh := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(sh, []byte(script.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "tmux.sock")
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(t.Context(), tmux, append([]string{"-f", "/dev/null", "-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	tm("new-session", "-d", "-x", "80", "-y", "24", "sh "+cli.Quote(sh))
	defer func() { _ = exec.CommandContext(t.Context(), tmux, "-S", sock, "kill-server").Run() }()

	var pane string
	// The binary runs on its own: poll its pane until it exits.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		// The screen, with -J joining wrapped lines: a line too long for
		// 80 columns shows. (Not -S -: tmux moves a screen cleared from its
		// top line into the history, which no terminal shows.)
		pane = tm("capture-pane", "-p", "-J")
		if strings.Contains(pane, "EXIT=") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(pane, "EXIT=0") {
		t.Fatalf("rollout apply did not finish with exit 0:\n%s", pane)
	}
	// The live table fits; log lines may wrap (they are not redrawn: above
	// the table, or after its last draw), and so may the report below it
	// (stdout, image references in full).
	live, _, _ := strings.Cut(pane, "WAVE ")
	for _, line := range strings.Split(live, "\n") {
		if strings.Contains(line, " level=") {
			continue
		}
		if n := utf8.RuneCountInString(strings.TrimRight(line, " ")); n > 80 {
			t.Errorf("a line of %d columns (wrapped at 80):\n%s", n, line)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^ENV +SERVICE +STEP`).FindAllString(pane, -1)); n != 1 {
		t.Errorf("the live table's header shows %d times, want once:\n%s", n, pane)
	}
	if head := strings.Index(pane, "ENV "); head < 0 || !strings.Contains(pane[:head], "notification not delivered") {
		t.Errorf("the refused webhook's warnings should show above the live table:\n%s", pane)
	}
	if !regexp.MustCompile(`(?m)^dev +web/svc01 .* 2/2\b`).MatchString(pane) || strings.Contains(pane, "?/2") {
		t.Errorf("the batch column should end at 2/2 (read from the instances), not ?/2:\n%s", pane)
	}
}
