package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestRunNotifies: prewarm run tells the webhook it finished, then, with a
// host down, that it failed and which host is not ready; the webhook's
// token is never printed.
func TestRunNotifies(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 2, Services: 1,
		Images: []string{"app:1.0"}, ImageSize: 32 << 10, Layers: 2})
	dir := t.TempDir()
	inv, rel := filepath.Join(dir, "hosts.yaml"), filepath.Join(dir, "release.yaml")
	if err := l.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	write(t, rel, fmt.Sprintf("version: 1\nimages:\n  - name: app\n    ref: %s/app:1.0\n", l.Inventory().Registries.Source.Address))
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()
	run := func(want int) map[string]any {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := []string{"run", "-c", inv, "-f", rel, "--notify", hook.URL + "/hook/s3cr3t"}
		code := cli.Main(t.Context(), "prewarm", commands(), args, &stdout, &stderr)
		if code != want || strings.Contains(stdout.String()+stderr.String(), "s3cr3t") {
			t.Fatalf("prewarm run: exit %d (want %d), or the token printed:\n%s%s", code, want, stdout.String(), stderr.String())
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("webhook got %d events, want 1: %v", len(got), got)
		}
		ev := got[0]
		got = nil
		return ev
	}
	ev := run(cli.ExitOK)
	if ev["event"] != "prewarm-finished" || ev["tool"] != "prewarm" || ev["summary"] != "all 2 hosts ready" {
		t.Errorf("finished: %v", ev)
	}
	h := l.Inventory().Environments[0].Hosts[1].Name
	if err := l.Inject(lab.Fault{Target: "host", Name: h, Action: "down"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ev = run(cli.ExitFailed)
	nr, _ := ev["hostsNotReady"].([]any)
	if ev["event"] != "prewarm-failed" || ev["exit"] != 1.0 || len(nr) != 1 || nr[0] != h {
		t.Errorf("failed (after %v): %v, want prewarm-failed naming %s", time.Since(start), ev, h)
	}
}
