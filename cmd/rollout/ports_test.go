package main

import (
	"os"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
)

// TestLabHostPorts: web/svc01 publishes host port 18080 on both hosts of
// dev (scale 2), under startFirst. plan flags it; apply upgrades it
// stop-first and says why; with strategy.startFirstServices insisting,
// apply refuses with exit 2 before any write.
func TestLabHostPorts(t *testing.T) {
	c := newLabCLI(t, func(cfg *lab.Config) { cfg.HostPort = 18080 })
	code, stdout, stderr := c.run(t, "plan", "-f", c.rel)
	if code != cli.ExitOK || !strings.Contains(stdout, "START-FIRST") || !strings.Contains(stdout, "no (stop-first: publishes host port") {
		t.Errorf("plan: exit %d, want START-FIRST no with the reason\n%s%s", code, stdout, stderr)
	}

	b, err := os.ReadFile(c.inv)
	if err != nil {
		t.Fatal(err)
	}
	insist := strings.Replace(string(b), "strategy:\n", "strategy:\n    startFirstServices: [web/svc01]\n", 1)
	if insist == string(b) {
		t.Fatalf("no strategy block in the lab inventory:\n%s", b)
	}
	if err := os.WriteFile(c.inv, []byte(insist), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = c.run(t, "apply", "-f", c.rel, "--prewarm", "--soak", "0s", "--upgrade-timeout", "30s")
	if state, img := c.image(t); code != cli.ExitUsage || state != "active" || img != c.region+"/app:1.0" || !strings.Contains(stdout+stderr, "startFirstServices insists") {
		t.Errorf("apply insisting on startFirst: exit %d, service %s %s; want exit 2, untouched at app:1.0\n%s%s", code, state, img, stdout, stderr)
	}
	if err := os.WriteFile(c.inv, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = c.run(t, "apply", "-f", c.rel, "--prewarm", "--soak", "0s", "--upgrade-timeout", "30s", "--json")
	if state, img := c.image(t); code != cli.ExitOK || state != "active" || img != c.region+"/app:1.1" || !strings.Contains(stdout, `"note": "upgraded stop-first: publishes host port`) || !strings.Contains(stderr, "upgrading stop-first") {
		t.Errorf("apply: exit %d, service %s %s; want it upgraded stop-first, saying why\n%s%s", code, state, img, stdout, stderr)
	}
}
