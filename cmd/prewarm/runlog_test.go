package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestRunLogsStartAndEnd: off a terminal (stderr a buffer, as under cron),
// a short prewarm run still says that it started and how it ended: done,
// or failed at ERROR with the hosts not ready counted.
func TestRunLogsStartAndEnd(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 2, Services: 1,
		Images: []string{"app:1.0"}, ImageSize: 32 << 10, Layers: 2})
	dir := t.TempDir()
	inv, rel := filepath.Join(dir, "hosts.yaml"), filepath.Join(dir, "release.yaml")
	if err := l.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	write(t, rel, fmt.Sprintf("version: 1\nimages:\n  - name: app\n    ref: %s/app:1.0\n", l.Inventory().Registries.Source.Address))
	run := func(want int, lines ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := cli.Main(t.Context(), "prewarm", commands(), []string{"run", "-c", inv, "-f", rel}, &stdout, &stderr); code != want {
			t.Fatalf("prewarm run: exit %d, want %d\n%s", code, want, stderr.String())
		}
		for _, s := range lines {
			if !strings.Contains(stderr.String(), s) {
				t.Errorf("prewarm run's stderr lacks %q:\n%s", s, stderr.String())
			}
		}
	}
	run(cli.ExitOK, `level=INFO msg="prewarm run started"`, `level=INFO msg="prewarm run done"`, "hosts=2 not_ready=0")
	if err := l.Inject(lab.Fault{Target: "host", Name: l.Inventory().Environments[0].Hosts[1].Name, Action: "down"}); err != nil {
		t.Fatal(err)
	}
	run(cli.ExitFailed, `level=INFO msg="prewarm run started"`, `level=ERROR msg="prewarm run failed"`, "not_ready=1")
}
