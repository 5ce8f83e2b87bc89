package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
)

// parseMetrics parses a metrics file with Prometheus's own text parser
// (what node_exporter's textfile collector uses), with the legacy name
// rules older collectors and Prometheus servers still enforce: a file it
// rejects fails.
func parseMetrics(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not valid Prometheus text format: %v\n%s", path, err, b)
	}
	return fams
}

// value is the gauge of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no %s with labels %v", name, want)
	return 0
}

// TestLabReportAndMetrics runs apply, rollback and a failed apply (the
// lab's never-healthy fault) with --report and --metrics-file: the report
// is what --json prints, the metrics parse and count the services, and the
// failed run keeps the last success time of the run before it.
func TestLabReportAndMetrics(t *testing.T) {
	c := newLabCLI(t)
	dir := t.TempDir()
	report, metrics := filepath.Join(dir, "rollout.json"), filepath.Join(dir, "rollout.prom")
	files := []string{"--report", report, "--metrics-file", metrics, "--soak", "0s", "--upgrade-timeout", "3s"}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)

	code, stdout, stderr := c.run(t, append([]string{"apply", "-f", c.rel, "--prewarm", "--json"}, files...)...)
	if code != cli.ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	if b, err := os.ReadFile(report); err != nil || string(b) != stdout {
		t.Errorf("the report file is not what --json printed (%v):\n%s\nstdout:\n%s", err, b, stdout)
	}
	for _, p := range []string{report, metrics} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v under umask 077, want 0600", p, err, fi.Mode().Perm())
		}
	}
	m := parseMetrics(t, metrics)
	dev := map[string]string{"env": "dev"}
	if v := value(t, m, "rollout_success", nil); v != 1 {
		t.Errorf("apply: rollout_success %v, want 1", v)
	}
	if v := value(t, m, "rollout_env_status", map[string]string{"env": "dev", "status": "done"}); v != 1 {
		t.Errorf("apply: dev status done %v, want 1", v)
	}
	if v := value(t, m, "rollout_env_services", map[string]string{"env": "dev", "result": "upgraded"}); v != 1 {
		t.Errorf("apply: services upgraded %v, want 1", v)
	}
	if v := value(t, m, "rollout_env_duration_seconds", dev); v <= 0 {
		t.Errorf("apply: dev duration %v, want > 0", v)
	}
	success := value(t, m, "rollout_last_success_timestamp_seconds", dev)
	if success == 0 {
		t.Error("apply: no last success time")
	}

	code, stdout, stderr = c.run(t, append([]string{"rollback", "--env", "dev", "-f", c.rel}, files...)...)
	if code != cli.ExitOK {
		t.Fatalf("rollback: exit %d\n%s%s", code, stdout, stderr)
	}
	var rep struct {
		Envs []struct {
			Status   string `json:"status"`
			Services []struct {
				Outcome string `json:"outcome"`
			} `json:"services"`
		} `json:"environments"`
	}
	if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &rep) != nil || len(rep.Envs) != 1 || rep.Envs[0].Status != "done" {
		t.Errorf("rollback report (%v):\n%s", err, b)
	}
	m = parseMetrics(t, metrics)
	if v := value(t, m, "rollout_env_services", map[string]string{"env": "dev", "result": "rolled_back"}) +
		value(t, m, "rollout_env_services", map[string]string{"env": "dev", "result": "upgraded"}); v != 1 {
		t.Errorf("rollback: services rolled or upgraded back %v, want 1", v)
	}
	success = value(t, m, "rollout_last_success_timestamp_seconds", dev)

	if err := c.l.Inject(lab.Fault{Target: "rancher", Action: "never-healthy", Arg: "*"}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = c.run(t, append([]string{"apply", "-f", c.rel}, files...)...)
	if code != cli.ExitFailed {
		t.Fatalf("apply of a never-healthy release: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), `"status": "failed"`) || !strings.Contains(string(b), "web/svc01") {
		t.Errorf("failed apply report (%v):\n%s", err, b)
	}
	m = parseMetrics(t, metrics)
	if v := value(t, m, "rollout_success", nil); v != 0 {
		t.Errorf("failed apply: rollout_success %v, want 0", v)
	}
	if v := value(t, m, "rollout_env_status", map[string]string{"env": "dev", "status": "failed"}); v != 1 {
		t.Errorf("failed apply: dev status failed %v, want 1", v)
	}
	if v := value(t, m, "rollout_env_services", map[string]string{"env": "dev", "result": "rolled_back"}) +
		value(t, m, "rollout_env_services", map[string]string{"env": "dev", "result": "failed"}); v != 1 {
		t.Errorf("failed apply: services failed or rolled back %v, want 1", v)
	}
	if v := value(t, m, "rollout_last_success_timestamp_seconds", dev); v != success {
		t.Errorf("failed apply: last success %v, want the rollback's %v carried over", v, success)
	}

	// A run that stops before the engine (a usage error) says so too.
	code, _, _ = c.run(t, append([]string{"apply", "-f", c.rel, "--soak", "-1s"}, files[:4]...)...)
	m = parseMetrics(t, metrics)
	if code != cli.ExitUsage || value(t, m, "rollout_run_failed", nil) != 1 || value(t, m, "rollout_last_success_timestamp_seconds", dev) != success {
		t.Errorf("usage error: exit %d, want 2, rollout_run_failed 1 and the last success kept", code)
	}
}
