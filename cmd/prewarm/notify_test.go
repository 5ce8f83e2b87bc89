package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
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

// TestRunRefusesPlainHTTPWebhook: prewarm run refuses (exit 2, before any
// work) a webhook URL that would carry its token in clear: http:// to a
// host other than loopback, from --notify (naming the flag and the
// inventory's insecure: true) or from a notification's variable (at its
// urlEnv line, naming the variable); never repeating the URL's path. The
// report says why.
func TestRunRefusesPlainHTTPWebhook(t *testing.T) {
	dir := t.TempDir()
	inv, report := filepath.Join(dir, "hosts.yaml"), filepath.Join(dir, "report.json")
	write(t, inv, "version: 1\nregistries:\n  source: {address: \"127.0.0.1:5000\"}\n  regions: {eu: {address: \"127.0.0.1:5001\"}}\n"+
		"environments:\n  - {name: dev, region: eu, hosts: [{name: h1, docker: \"unix:///var/run/docker.sock\"}]}\n"+
		"notifications:\n  - urlEnv: DROVER_TEST_HOOK_URL\n")
	plain := "http://192.0.2.1:8080/services/T0/B0/s3cr3t" // TEST-NET-1: never reached
	run := func(args ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := cli.Main(t.Context(), "prewarm", commands(), append([]string{"run", "-c", inv, "--report", report}, args...), &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	code, out := run("--notify", plain)
	if code != cli.ExitUsage || !strings.Contains(out, "--notify: http://192.0.2.1:8080: plain HTTP") ||
		!strings.Contains(out, "insecure: true") || strings.Contains(out, "s3cr3t") {
		t.Errorf("--notify http://...: exit %d, want 2 naming --notify and insecure: true, without the token:\n%s", code, out)
	}
	t.Setenv("DROVER_TEST_HOOK_URL", plain)
	code, out = run()
	want := inv + ":8: notifications[0].urlEnv: $DROVER_TEST_HOOK_URL: http://192.0.2.1:8080: plain HTTP"
	if code != cli.ExitUsage || !strings.Contains(out, want) || strings.Contains(out, "s3cr3t") {
		t.Errorf("$DROVER_TEST_HOOK_URL http://...: exit %d, want 2 and %q, without the token:\n%s", code, want, out)
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "plain HTTP") || strings.Contains(string(b), "s3cr3t") {
		t.Errorf("report (%v) should say why the run stopped, without the token:\n%s", err, b)
	}
}
