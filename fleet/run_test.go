package fleet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/output"
)

func TestRunMetricsAndReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		mirrorErr error
		want      []string
		wantErr   bool
	}{
		{name: "all ready", want: []string{
			`prewarm_hosts{env="env-r1:5000",state="ready"} 2`,
			`prewarm_hosts{env="env-r2:5000",state="failed"} 0`,
			`prewarm_pulled_bytes{env="env-r1:5000"} 2048`,
			"prewarm_mirror_failed 0",
			"prewarm_success 1",
			"prewarm_run_failed 0",
		}},
		{name: "mirror failed, pull still runs", mirrorErr: errors.New("region r2 down"), wantErr: true, want: []string{
			`prewarm_hosts{env="env-r2:5000",state="ready"} 2`,
			"prewarm_mirror_failed 1",
			"prewarm_success 0",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFleet()
			mirrored := false
			mirror := func(context.Context, func(string, error)) (any, error) {
				mirrored = true
				return map[string]int{"regions": 2}, tc.mirrorErr
			}
			rr, err := Run(t.Context(), fakeHosts(4, "r1:5000", "r2:5000"), fakeLock(), mirror, WithDial(f.dial))
			if (err != nil) != tc.wantErr || !mirrored {
				t.Fatalf("err %v mirrored %v, want error %v", err, mirrored, tc.wantErr)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "prewarm.prom")
			if err := rr.WriteMetrics(path); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w+"\n") {
					t.Errorf("metrics lack %q:\n%s", w, b)
				}
			}
			if err := output.WriteJSON(filepath.Join(dir, "report.json"), rr); err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 2 {
				t.Errorf("dir holds %d files, want 2 (no temporary files left)", len(ents))
			}
		})
	}
}

// A run that stops before it starts (source down, moved tag) still writes
// metrics that say so, not nothing (node_exporter would keep the last good
// run's numbers).
func TestFailedRunMetrics(t *testing.T) {
	t.Parallel()
	rr := FailedRun(time.Unix(1764547200, 0), errors.New("resolve release.yaml: source down"))
	m := string(rr.Metrics())
	for _, w := range []string{"prewarm_success 0\n", "prewarm_run_failed 1\n", "prewarm_last_run_timestamp_seconds 1764547200\n"} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %q:\n%s", w, m)
		}
	}
	if strings.Contains(m, "prewarm_hosts{") {
		t.Errorf("a run that pulled nothing reports host counts:\n%s", m)
	}
}
