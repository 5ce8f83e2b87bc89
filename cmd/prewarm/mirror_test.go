package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

// mirrorLab is a source and two regions, an inventory and a release file.
type mirrorLab struct {
	dir, hosts, release string
	src                 *registries.Registry
	regions             []*registries.Registry
}

func newMirrorLab(t *testing.T) *mirrorLab {
	t.Helper()
	start := func() *registries.Registry {
		r, err := registries.Start(t.Context(), registries.WithDir(t.TempDir()))
		if err != nil {
			t.Fatalf("start registry: %v", err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	l := &mirrorLab{dir: t.TempDir(), src: start()}
	l.regions = []*registries.Registry{start(), start()}
	if _, err := registries.Seed(t.Context(), l.src.Addr(), registries.SeedSpec{Images: []string{"team/app:1.0", "team/app:1.1"}, Size: 128 << 10, Layers: 2}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	l.hosts = filepath.Join(l.dir, "hosts.yaml")
	write(t, l.hosts, fmt.Sprintf("version: 1\nregistries:\n  source:\n    address: %s\n    insecure: true\n  regions:\n    eu:\n      address: %s\n      insecure: true\n    us:\n      address: %s\n      insecure: true\n"+
		"environments:\n  - name: dev\n    region: eu\n    hosts:\n      - {name: dev-01, docker: \"tcp://127.0.0.1:1\"}\n",
		l.src.Addr(), l.regions[0].Addr(), l.regions[1].Addr()))
	l.release = filepath.Join(l.dir, "release.yaml")
	write(t, l.release, "version: 1\nimages:\n  - name: app\n    ref: "+l.src.Addr()+"/team/app:1.0\n")
	return l
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (l *mirrorLab) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(t.Context(), "prewarm", commands(), append(args, "-c", l.hosts), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestMirrorCommand(t *testing.T) {
	t.Parallel()
	l := newMirrorLab(t)

	code, out, errOut := l.run(t, "mirror", "-f", l.release, "--json")
	if code != cli.ExitOK {
		t.Fatalf("mirror: exit %d\n%s", code, errOut)
	}
	var rep registry.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Results) != 2 {
		t.Fatalf("report %q: %v", out, err)
	}
	lock, err := inventory.ReadLock(filepath.Join(l.dir, "release.lock.json"))
	if err != nil || len(lock.Images) != 1 || lock.Images[0].Digest != rep.Results[0].Digest {
		t.Fatalf("lock beside the release: %v %+v", err, lock)
	}
	for _, res := range rep.Results {
		if res.Status != registry.StatusMirrored {
			t.Errorf("result %+v: want mirrored", res)
		}
	}

	// Rerun: nothing to do; the plan agrees.
	if code, out, errOut := l.run(t, "mirror", "-f", l.release); code != cli.ExitOK || !strings.Contains(out, "present") {
		t.Errorf("rerun: exit %d, out %q, err %q", code, out, errOut)
	}
	if code, out, _ := l.run(t, "plan", "-f", l.release); code != cli.ExitOK || !strings.Contains(out, "eu: 0 blobs") {
		t.Errorf("plan: exit %d, out %q", code, out)
	}
	if code, out, _ := l.run(t, "mirror", "--dry-run", l.src.Addr()+"/team/app:1.1", "--lock", filepath.Join(l.dir, "other.lock.json")); code != cli.ExitOK || strings.Contains(out, "eu: 0 blobs") {
		t.Errorf("dry run of 1.1: exit %d, out %q: want blobs to move", code, out)
	}

	// The tag moves: an error that says so (exit 2), then --relock accepts it.
	if err := crane.Copy(l.src.Addr()+"/team/app:1.1", l.src.Addr()+"/team/app:1.0", crane.Insecure); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := l.run(t, "mirror", "-f", l.release); code != cli.ExitUsage || !strings.Contains(errOut, "--relock") {
		t.Errorf("moved tag: exit %d, %q; want 2 and a hint at --relock", code, errOut)
	}
	if code, _, errOut := l.run(t, "mirror", "-f", l.release, "--relock"); code != cli.ExitOK {
		t.Errorf("relock: exit %d, %q", code, errOut)
	}

	// A region down: exit 1, the report names it.
	l.regions[1].Faults().Down(true)
	write(t, l.release, "version: 1\nimages:\n  - name: app\n    ref: "+l.src.Addr()+"/team/app:1.1\n")
	code, out, errOut = l.run(t, "mirror", "-f", l.release, "--relock", "--jobs", "2")
	if code != cli.ExitFailed || !strings.Contains(out, "us") || !strings.Contains(errOut, "us") {
		t.Errorf("region down: exit %d\nout %q\nerr %q", code, out, errOut)
	}
}

func TestMirrorCommandUsage(t *testing.T) {
	t.Parallel()
	l := newMirrorLab(t)
	tests := []struct {
		name string
		args []string
	}{
		{name: "no images and no lock", args: []string{"mirror", "--lock", filepath.Join(l.dir, "none.json")}},
		{name: "jobs 0", args: []string{"mirror", "-f", l.release, "--jobs", "0"}},
		{name: "bad platform", args: []string{"plan", "-f", l.release, "--platform", "linux"}},
		{name: "missing release", args: []string{"mirror", "-f", filepath.Join(l.dir, "nope.yaml")}},
		{name: "seed with --hosts", args: []string{"seed", "--hosts", "a,b", "--host", "a"}},
		{name: "seed with neither host nor docker", args: []string{"seed"}},
		{name: "seed --docker without one env", args: []string{"seed", "--docker", "unix:///var/run/docker.sock"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if code, _, errOut := l.run(t, tc.args...); code != cli.ExitUsage {
				t.Errorf("exit %d (%s), want 2", code, errOut)
			}
		})
	}
}

// TestResolveExitCodes: a source registry that fails is exit 1 (rerun
// later) in mirror, plan and run alike; a lock resolved at another source
// is exit 2 (the operator decides: --relock) in all three.
func TestResolveExitCodes(t *testing.T) {
	t.Parallel()
	l := newMirrorLab(t)
	write(t, l.hosts, fmt.Sprintf("version: 1\nregistries:\n  source:\n    address: %s\n    insecure: true\n  regions:\n    eu:\n      address: %s\n      insecure: true\n"+
		"environments:\n  - name: dev\n    region: eu\n    hosts:\n      - {name: dev-01, docker: \"tcp://127.0.0.1:1\"}\n",
		l.src.Addr(), l.regions[0].Addr()))
	if code, _, errOut := l.run(t, "mirror", "-f", l.release); code != cli.ExitOK {
		t.Fatalf("mirror: exit %d\n%s", code, errOut)
	}
	l.src.Faults().Down(true)
	for _, cmd := range []string{"mirror", "plan", "run"} {
		if code, _, errOut := l.run(t, cmd, "-f", l.release); code != cli.ExitFailed || !strings.Contains(errOut, l.src.Addr()) {
			t.Errorf("%s with the source down: exit %d (want 1), stderr %q", cmd, code, errOut)
		}
	}
	l.src.Faults().Down(false)

	lock := filepath.Join(l.dir, "release.lock.json")
	b, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	write(t, lock, strings.Replace(string(b), l.src.Addr(), "build.example.com", 1))
	for _, cmd := range []string{"mirror", "plan", "run"} {
		if code, _, errOut := l.run(t, cmd, "-f", l.release); code != cli.ExitUsage || !strings.Contains(errOut, "--relock") {
			t.Errorf("%s with a lock from another source: exit %d (want 2), stderr %q", cmd, code, errOut)
		}
	}
}

// The nightly job's metrics and report say that a run stopped before it
// started (here: the source is down), instead of leaving the last good
// run's file in place for node_exporter.
func TestRunFailedEarlyWritesMetrics(t *testing.T) {
	t.Parallel()
	l := newMirrorLab(t)
	write(t, l.hosts, fmt.Sprintf("version: 1\nregistries:\n  source:\n    address: %s\n    insecure: true\n  regions:\n    eu:\n      address: %s\n      insecure: true\n"+
		"environments:\n  - name: dev\n    region: eu\n    hosts:\n      - {name: dev-01, docker: \"tcp://127.0.0.1:1\"}\n",
		l.src.Addr(), l.regions[0].Addr()))
	metrics, report := filepath.Join(l.dir, "drover.prom"), filepath.Join(l.dir, "report.json")
	write(t, metrics, "prewarm_success 1\n") // the last good run's
	l.src.Faults().Down(true)
	code, _, errOut := l.run(t, "run", "-f", l.release, "--metrics-file", metrics, "--report", report)
	if code != cli.ExitFailed {
		t.Fatalf("run with the source down: exit %d, want 1\n%s", code, errOut)
	}
	m, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"prewarm_success 0\n", "prewarm_run_failed 1\n"} {
		if !strings.Contains(string(m), w) {
			t.Errorf("metrics lack %q:\n%s", w, m)
		}
	}
	var rep struct{ Error string }
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || !strings.Contains(rep.Error, l.src.Addr()) {
		t.Errorf("report error %q (%v), want one naming the source %s", rep.Error, err, l.src.Addr())
	}
}
