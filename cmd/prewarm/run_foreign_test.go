package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/prewarm"
)

// TestRunLogsOutsideFetches: prewarm run, the nightly job, says what plan
// lists: a WARN line per environment naming the hosts of a region left at
// foreignLayers: urls that will download an image's foreign layers from
// its URLs (none for a mirror region's, none for hosts not run on), and
// the same list as outsideFetches in its JSON report.
func TestRunLogsOutsideFetches(t *testing.T) {
	t.Parallel()
	l, release := newForeignLab(t, 3)
	report := filepath.Join(l.dir, "report.json")

	// The hosts do not answer: the run fails, and still says it.
	code, _, stderr := l.run(t, "run", "-f", release, "--report", report, "--retries", "0",
		"--hosts", "dmz-eu-01,demo-01,demo-02")
	t.Log(stderr)
	if code != cli.ExitFailed {
		t.Fatalf("run: exit %d, want %d\n%s", code, cli.ExitFailed, stderr)
	}
	var warns []string
	for line := range strings.Lines(stderr) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "foreign layers from outside") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 1 {
		t.Fatalf("run logged %d outside-fetch warnings, want 1 (demo's):\n%s", len(warns), stderr)
	}
	for _, s := range []string{"env=demo", "region=us", "hosts=demo-01,demo-02 ", "image=win", "layers=1", "size=", "from=" + l.src.Addr()} {
		if !strings.Contains(warns[0], s) {
			t.Errorf("warning lacks %q: %s", s, warns[0])
		}
	}

	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Outside []prewarm.OutsideFetch `json:"outsideFetches"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	if len(doc.Outside) != 1 || doc.Outside[0].Env != "demo" || doc.Outside[0].Layers != 1 ||
		strings.Join(doc.Outside[0].Hosts, ",") != "demo-01,demo-02" || doc.Outside[0].Bytes == 0 {
		t.Errorf("report's outsideFetches %+v: want demo's one layer on demo-01,demo-02", doc.Outside)
	}
}
