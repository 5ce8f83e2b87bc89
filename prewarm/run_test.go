package prewarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/registry"
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
			"prewarm_mirror_failed 0",
			"prewarm_success 1",
			"prewarm_run_failed 0",
		}},
		{name: "mirror failed, pull still runs", mirrorErr: errors.New("region r2 down"), wantErr: true, want: []string{
			"prewarm_mirror_failed 1",
			"prewarm_success 0",
			"prewarm_run_failed 0",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := labtest.New(t, lab.Config{Regions: 2, Envs: 2, HostsPerEnv: 2, SeedRegions: true, ImageSize: 64 << 10, Layers: 1})
			hosts, err := fleet.Targets(l.Inventory(), fleet.Selection{})
			if err != nil {
				t.Fatal(err)
			}
			mirrored := false
			mirror := func(context.Context, func(string, error)) (*registry.Report, error) {
				mirrored = true
				return &registry.Report{}, tc.mirrorErr
			}
			rr, err := Run(t.Context(), hosts, labLock(l), mirror, fleet.WithBackoff(noBackoff))
			if (err != nil) != tc.wantErr || !mirrored {
				t.Fatalf("err %v mirrored %v, want error %v", err, mirrored, tc.wantErr)
			}
			if len(rr.NotReady) != 0 {
				t.Errorf("not ready %v, want every host ready (the regions hold the release)", rr.NotReady)
			}
			want := tc.want
			for _, e := range l.Inventory().EnvNames() {
				want = append(want, fmt.Sprintf(`prewarm_hosts{env=%q,state="ready"} 2`, e), fmt.Sprintf(`prewarm_hosts{env=%q,state="failed"} 0`, e))
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
			for _, w := range want {
				if !strings.Contains(string(b), w+"\n") {
					t.Errorf("metrics lack %q:\n%s", w, b)
				}
			}
			for _, e := range l.Inventory().EnvNames() {
				if !strings.Contains(string(b), fmt.Sprintf("prewarm_pulled_bytes{env=%q} ", e)) || strings.Contains(string(b), fmt.Sprintf("prewarm_pulled_bytes{env=%q} 0\n", e)) {
					t.Errorf("metrics do not count the bytes %s pulled:\n%s", e, b)
				}
			}
			if err := output.WriteJSON(filepath.Join(dir, "report.json"), rr); err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 2 {
				t.Errorf("dir holds %d files, want 2 (no temporary files left)", len(ents))
			}
			var rep map[string]json.RawMessage
			if b, err := os.ReadFile(filepath.Join(dir, "report.json")); err != nil || json.Unmarshal(b, &rep) != nil || rep["mirror"] == nil || rep["pull"] == nil {
				t.Errorf("report %s (%v): want the mirror's report and the pull's", b, err)
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

// Options that Pull would refuse are refused before the mirror starts.
func TestRunBadOptions(t *testing.T) {
	t.Parallel()
	mirrored := false
	mirror := func(context.Context, func(string, error)) (*registry.Report, error) { mirrored = true; return nil, nil }
	rr, err := Run(t.Context(), nil, nil, mirror, fleet.WithConcurrency(0))
	if rr != nil || err == nil || !strings.Contains(err.Error(), "concurrency 0") || mirrored {
		t.Errorf("Run with concurrency 0: report %v, error %v, mirrored %v; want the option's error and no mirror", rr, err, mirrored)
	}
}

// TestRunInterruptedDuringMirror: Ctrl-C during the mirror step. No host
// is called; every host is reported interrupted, counted missing rather
// than failed, and none is called unreachable.
func TestRunInterruptedDuringMirror(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{HostsPerEnv: 4, SeedRegions: true, ImageSize: 8 << 20, Layers: 2, HostLink: netem.Link{BytesPerSec: 1 << 20}})
	hosts, err := fleet.Targets(l.Inventory(), fleet.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	mirror := func(ctx context.Context, _ func(string, error)) (*registry.Report, error) {
		cancel()
		return nil, ctx.Err()
	}
	rr, err := Run(ctx, hosts, labLock(l), mirror)
	if !errors.Is(err, fleet.ErrInterrupted) || errors.Is(err, fleet.ErrUnreachable) {
		t.Errorf("error %v: want interrupted, not unreachable", err)
	}
	for _, h := range rr.Pull.Hosts {
		if h.Ready || !h.Interrupted || strings.Contains(h.Error, "unreachable") || !strings.Contains(h.Error, "interrupted") {
			t.Errorf("host %s: ready %v, interrupted %v, error %q: want interrupted", h.Name, h.Ready, h.Interrupted, h.Error)
		}
		if s := l.DockerHost(h.Name).Stats(); s.Inspects+s.Pulls != 0 {
			t.Errorf("host %s: %d inspects, %d pulls after the run was cancelled, want none", h.Name, s.Inspects, s.Pulls)
		}
	}
	if m := string(rr.Metrics()); !strings.Contains(m, `state="missing"} 4`) || !strings.Contains(m, `state="failed"} 0`) {
		t.Errorf("metrics after an interrupt: want 4 missing and 0 failed:\n%s", m)
	}
}
