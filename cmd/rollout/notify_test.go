package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/rollout"
)

// hookRecorder is a webhook receiver: the bodies posted to it, in order.
type hookRecorder struct {
	t      *testing.T
	mu     sync.Mutex
	bodies []map[string]any
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		h.t.Errorf("webhook body: %v", err)
	}
	h.mu.Lock()
	h.bodies = append(h.bodies, m)
	h.mu.Unlock()
}

// take returns the bodies received so far and forgets them.
func (h *hookRecorder) take() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.bodies
	h.bodies = nil
	return b
}

const secret = "T000/B000/s3cr3tT0k3n"

// TestLabNotifications: a successful and a failed apply (a service that
// never becomes healthy) send every event, in order, to a JSON webhook
// from the inventory and a Slack one from --notify; the token in their
// URLs appears nowhere in the output.
func TestLabNotifications(t *testing.T) {
	c := newLabCLI(t)
	js, sl := &hookRecorder{t: t}, &hookRecorder{t: t}
	jsSrv, slSrv := httptest.NewServer(js), httptest.NewServer(sl)
	defer jsSrv.Close()
	defer slSrv.Close()
	c.addNotifications(t, "HOOK_URL")
	t.Setenv("HOOK_URL", jsSrv.URL+"/services/"+secret)
	quick := []string{"--soak", "0s", "--upgrade-timeout", "3s", "--prewarm", "--notify", slSrv.URL + "/services/" + secret, "--notify-format", "slack"}

	dir := t.TempDir()
	report, metrics := filepath.Join(dir, "report.json"), filepath.Join(dir, "rollout.prom")
	code, stdout, stderr := c.run(t, append([]string{"apply", "-f", c.rel, "--log-format", "json", "--report", report, "--metrics-file", metrics}, quick...)...)
	if code != cli.ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, p := range []string{report, metrics} {
		if b, err := os.ReadFile(p); err != nil || len(b) == 0 || strings.Contains(string(b), "s3cr3t") {
			t.Errorf("%s (%v): missing, empty or holding the webhook token:\n%s", p, err, b)
		}
	}
	ok := c.checkEvents(t, js.take(), sl.take(), []string{"run-started", "wave-started", "env-done", "run-finished"},
		[]string{"started by", "wave 0 started: dev", "dev done in", "finished in"})
	if envs, _ := ok[0]["environments"].([]any); ok[0]["release"] != c.rel || len(envs) != 1 || envs[0] != "dev" || !strings.Contains(ok[0]["who"].(string), "@") {
		t.Errorf("run-started should say who (user@host), the release and the environments: %v", ok[0])
	}
	if ok[1]["wave"] != 0.0 || ok[2]["env"] != "dev" || ok[2]["status"] != "done" {
		t.Errorf("wave-started %v, env-done %v", ok[1], ok[2])
	}
	if d, _ := ok[3]["durationSeconds"].(float64); d <= 0 || ok[3]["summary"] != "dev=done" || ok[3]["exit"] != 0.0 {
		t.Errorf("run-finished should carry the summary, exit 0 and the duration: %v", ok[3])
	}
	if ds, _ := ok[3]["environmentDurationsSeconds"].(map[string]any); ds["dev"] == nil {
		t.Errorf("run-finished should carry each environment's duration: %v", ok[3])
	}
	if strings.Contains(stdout+stderr, "s3cr3t") {
		t.Errorf("the webhook token is in the output:\n%s%s", stdout, stderr)
	}

	// Back to 1.0, then a release that never becomes healthy.
	if code, stdout, stderr = c.run(t, "rollback", "--env", "dev", "-f", c.rel, "--soak", "0s", "--notify", slSrv.URL+"/services/"+secret, "--notify-format", "slack"); code != cli.ExitOK {
		t.Fatalf("rollback: exit %d\n%s%s", code, stdout, stderr)
	}
	c.checkEvents(t, js.take(), sl.take(), []string{"run-started", "env-done", "run-finished"},
		[]string{"rollout rollback started by", "dev done in", "rollout rollback finished in"})
	if err := c.l.Inject(lab.Fault{Target: "rancher", Action: "never-healthy", Arg: "*"}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = c.run(t, append([]string{"apply", "-f", c.rel}, quick...)...)
	if code != cli.ExitFailed {
		t.Fatalf("apply of a never-healthy release: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	jb := c.checkEvents(t, js.take(), sl.take(), []string{"run-started", "wave-started", "env-failed", "run-finished"},
		[]string{"started by", "wave 0 started", "dev failed and was rolled back: web/svc01", "failed (exit 1) in"})
	if r, _ := jb[2]["reason"].(string); !strings.Contains(r, "web/svc01") {
		t.Errorf("env-failed reason %q does not name the service", r)
	}
	if jb[3]["summary"] != "dev=failed" || jb[3]["exit"] != 1.0 {
		t.Errorf("run-finished: %v", jb[3])
	}
	if strings.Contains(stdout+stderr, "s3cr3t") {
		t.Errorf("the webhook token is in the output:\n%s%s", stdout, stderr)
	}
}

// checkEvents compares the JSON webhook's kinds and the Slack webhook's
// texts with what a run should have sent, in order.
func (c *labCLI) checkEvents(t *testing.T, jb, sb []map[string]any, kinds, texts []string) []map[string]any {
	t.Helper()
	var got []string
	for _, b := range jb {
		got = append(got, b["event"].(string))
		if b["who"] == "" || b["tool"] != "rollout" {
			t.Errorf("event without who or tool: %v", b)
		}
	}
	if strings.Join(got, " ") != strings.Join(kinds, " ") {
		t.Fatalf("JSON webhook got %v, want %v", got, kinds)
	}
	if len(sb) != len(texts) {
		t.Fatalf("Slack webhook got %d bodies, want %d: %v", len(sb), len(texts), sb)
	}
	for i, b := range sb {
		text, _ := b["text"].(string)
		if blocks, _ := b["blocks"].([]any); !strings.Contains(text, texts[i]) || len(blocks) == 0 {
			t.Errorf("Slack body %d = %v, want text with %q and blocks", i, b, texts[i])
		}
	}
	return jb
}

// addNotifications appends a notifications block to the lab's hosts.yaml.
func (c *labCLI) addNotifications(t *testing.T, urlEnv string) {
	t.Helper()
	b, err := readAll(c.inv)
	if err != nil {
		t.Fatal(err)
	}
	b += "notifications:\n  - urlEnv: " + urlEnv + "\n    format: json\n"
	if err := writeTextFile(c.inv, b); err != nil {
		t.Fatal(err)
	}
}

// TestLabNotifyHangingWebhook: a webhook that never answers holds the run
// up for --notify-timeout at most, and the run's exit code is its own.
func TestLabNotifyHangingWebhook(t *testing.T) {
	c := newLabCLI(t)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	start := time.Now()
	code, stdout, stderr := c.run(t, "apply", "-f", c.rel, "--soak", "0s", "--prewarm",
		"--notify", hang.URL+"/hook/"+secret, "--notify-timeout", "1s")
	took := time.Since(start)
	if code != cli.ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "notifications not delivered") || strings.Contains(stdout+stderr, "s3cr3t") {
		t.Errorf("stderr should warn of undelivered notifications, without the token:\n%s", stderr)
	}
	// The run itself takes a few seconds; the webhook may add its 1s.
	if took > 20*time.Second {
		t.Errorf("apply took %v with a hanging webhook", took)
	}
}

func readAll(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

func writeTextFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

// A run that could not put an environment back sends needs-human with the
// commands the report prints, before run-finished (exit 3).
func TestNotifyNeedsHuman(t *testing.T) {
	t.Parallel()
	js := &hookRecorder{t: t}
	srv := httptest.NewServer(js)
	defer srv.Close()
	var nf cli.NotifyFlags
	fs := pflag.NewFlagSet("apply", pflag.ContinueOnError)
	nf.Register(fs)
	if err := fs.Parse([]string{"--notify", srv.URL}); err != nil {
		t.Fatal(err)
	}
	env := &cli.Env{Logger: slog.New(slog.DiscardHandler), Getenv: func(string) string { return "" }}
	w := &world{targets: []rollout.EnvTarget{{Name: "prod", Wave: 1}}}
	rn, err := newRunNotifier(env, &nf, w, "apply", &scopeFlags{release: "release.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	rn.Started()
	now := time.Now()
	rn.Event(rollout.Event{Time: now, Env: "prod", Step: "upgrade"})
	rn.Event(rollout.Event{Time: now.Add(time.Minute), Env: "prod", Step: "ended", State: "needs-human", Message: "web/api: stuck"})
	rep := &rollout.Report{Started: now, Ended: now.Add(time.Minute), Envs: []rollout.EnvReport{{Env: "prod", Wave: 1, Status: rollout.EnvNeedsHuman,
		Service: "web/api", Cause: "stuck", Services: []rollout.ServiceReport{{Service: "web/api", State: "upgrading", Command: "rollout rollback --env prod --service web/api"}}}}}
	err = rn.finished(rep, cli.NeedsHuman(rep.Err()))
	var ee *cli.ExitError
	if !errors.As(err, &ee) || ee.Code != cli.ExitHuman {
		t.Fatalf("finished changed the error: %v", err)
	}
	var kinds []string
	bodies := js.take()
	for _, b := range bodies {
		kinds = append(kinds, b["event"].(string))
	}
	if strings.Join(kinds, " ") != "run-started wave-started env-failed needs-human run-finished" {
		t.Fatalf("events %v", kinds)
	}
	nh, fin := bodies[3], bodies[4]
	if cmds, _ := nh["commands"].([]any); len(cmds) != 1 || cmds[0] != "rollout rollback --env prod --service web/api" || nh["exit"] != 3.0 {
		t.Errorf("needs-human: %v", nh)
	}
	if fin["exit"] != 3.0 || fin["durationSeconds"] != 60.0 || fin["environmentDurationsSeconds"].(map[string]any)["prod"] != 60.0 {
		t.Errorf("run-finished: %v", fin)
	}
}

// TestLabNotifyRefusesPlainHTTP: a webhook URL that would carry its token
// in clear (http:// to a host other than loopback) stops apply and
// rollback with exit 2 before anything changes: from --notify, naming the
// flag and the inventory's insecure: true as the way out; from the
// inventory's variable, at its urlEnv line. Neither message repeats the
// URL's path. With insecure: true the run goes ahead.
func TestLabNotifyRefusesPlainHTTP(t *testing.T) {
	c := newLabCLI(t)
	_, before := c.image(t)
	plain := "http://192.0.2.1:8080/services/" + secret // TEST-NET-1: never reached
	// Flags that end a run quickly should it not be refused.
	quick := []string{"--soak", "0s", "--notify-timeout", "1s"}
	apply := append([]string{"apply", "-f", c.rel, "--upgrade-timeout", "3s", "--prewarm"}, quick...)
	for _, verb := range [][]string{apply, append([]string{"rollback", "--env", "dev", "-f", c.rel}, quick...)} {
		code, stdout, stderr := c.run(t, append(verb, "--notify", plain)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, "--notify: http://192.0.2.1:8080: plain HTTP") ||
			!strings.Contains(stderr, "insecure: true") || strings.Contains(stdout+stderr, "s3cr3t") {
			t.Errorf("%s --notify http://...: exit %d, want 2 naming --notify and insecure: true, without the token:\n%s%s", verb[0], code, stdout, stderr)
		}
	}
	c.addNotifications(t, "HOOK_URL")
	t.Setenv("HOOK_URL", plain)
	b, err := readAll(c.inv)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Count(b[:strings.Index(b, "- urlEnv: HOOK_URL")], "\n") + 1
	code, stdout, stderr := c.run(t, apply...)
	want := fmt.Sprintf("%s:%d: notifications[0].urlEnv: $HOOK_URL: http://192.0.2.1:8080: plain HTTP", c.inv, line)
	if code != cli.ExitUsage || !strings.Contains(stderr, want) || !strings.Contains(stderr, "set insecure: true on this notification") ||
		strings.Contains(stdout+stderr, "s3cr3t") {
		t.Errorf("apply with $HOOK_URL http://...: exit %d, want 2 and %q, without the token:\n%s%s", code, want, stdout, stderr)
	}
	if _, after := c.image(t); after != before {
		t.Errorf("a refused run changed the service: %s -> %s", before, after)
	}
	if err := writeTextFile(c.inv, b+"    insecure: true\n"); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = c.run(t, apply...)
	if code != cli.ExitOK || strings.Contains(stdout+stderr, "s3cr3t") {
		t.Errorf("apply with insecure: true: exit %d, want 0, without the token:\n%s%s", code, stdout, stderr)
	}
}
