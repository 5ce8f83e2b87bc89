package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/inventory"
)

// labCLI is a lab (one environment, dev, two hosts, service web/svc01 on
// app:1.0) with its hosts.yaml, its keys in the process environment, and a
// release of app:1.1 with its lock.
type labCLI struct {
	l                *lab.Lab
	inv, rel, region string
}

// newLabCLI sets the lab's keys with t.Setenv: tests using it are not
// parallel.
func newLabCLI(t *testing.T, adjust ...func(*lab.Config)) *labCLI {
	t.Helper()
	cfg := lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 2, Services: 1,
		Images: []string{"app:1.0", "app:1.1"}, ImageSize: 32 << 10, Layers: 2, SeedRegions: true,
		HealthDelay: 50 * time.Millisecond, Strategy: inventory.Strategy{BatchSize: 1, IntervalMillis: 100}}
	for _, f := range adjust {
		f(&cfg)
	}
	l := labtest.New(t, cfg)
	dir := t.TempDir()
	c := &labCLI{l: l, inv: filepath.Join(dir, "hosts.yaml"), rel: filepath.Join(dir, "release.yaml")}
	if err := l.WriteInventory(c.inv); err != nil {
		t.Fatal(err)
	}
	for _, kv := range l.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	inv := l.Inventory()
	c.region = inv.Registries.Regions[inv.Environments[0].Region].Address
	src := inv.Registries.Source.Address
	rel := fmt.Sprintf("version: 1\nimages:\n  - name: app\n    ref: %s/app:1.1\nservices:\n  - service: web/svc01\n    image: app\n", src)
	if err := os.WriteFile(c.rel, []byte(rel), 0o600); err != nil {
		t.Fatal(err)
	}
	lock := inventory.Lock{Version: 1, Source: src}
	for _, s := range l.Seeded {
		if s.Ref == "app:1.1" {
			lock.Images = append(lock.Images, inventory.LockImage{Name: "app", Ref: src + "/app:1.1",
				Repository: s.Repository, Tag: s.Tag, Digest: s.Digest, MediaType: s.MediaType})
		}
	}
	b, err := json.Marshal(lock)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "release.lock.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs rollout with -c and returns the exit code, stdout and stderr.
func (c *labCLI) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(t.Context(), "rollout", commands(), append(args, "-c", c.inv), &out, &errb)
	return code, out.String(), errb.String()
}

func (c *labCLI) image(t *testing.T) (state, image string) {
	t.Helper()
	st := c.l.Services("dev")[0].Status()
	return st.State, st.Image
}

// TestLabCommands walks the production commands on a lab: a gate that holds
// prints the command that opens it; status -f shows the release's image;
// finish and rollback report where a service went from and to; a second
// rollback -f does not redeploy the release the first one rolled back.
func TestLabCommands(t *testing.T) {
	c := newLabCLI(t)
	v10, v11 := c.region+"/app:1.0", c.region+"/app:1.1"
	quick := []string{"--soak", "0s", "--upgrade-timeout", "30s"}

	code, _, stderr := c.run(t, "apply", "-f", c.rel, "--gate-timeout", "0s")
	want := fmt.Sprintf("prewarm pull -c %s -f %s --hosts dev-01,dev-02", c.inv, c.rel)
	if code != cli.ExitFailed || !strings.Contains(stderr, "environment dev: gate closed") || !strings.Contains(stderr, want) {
		t.Fatalf("gated apply: exit %d, stderr lacks the gate or %q:\n%s", code, want, stderr)
	}

	code, stdout, stderr := c.run(t, append([]string{"apply", "-f", c.rel, "--prewarm", "--finish", "manual"}, quick...)...)
	if code != cli.ExitOK {
		t.Fatalf("apply --finish manual: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = c.run(t, "status", "--env", "dev", "-f", c.rel)
	// The command carries -c, so it works from any directory.
	if code != cli.ExitOK || !strings.Contains(stdout, "TARGET") || !strings.Contains(stdout, "rollout finish -c "+c.inv+" --env dev --service web/svc01") {
		t.Errorf("status -f of an upgraded service: exit %d, want its target and the finish command with -c:\n%s", code, stdout)
	}
	code, stdout, stderr = c.run(t, "finish", "--env", "dev")
	if code != cli.ExitOK || !strings.Contains(stdout, "finished  active  healthy  "+v10+"  "+v11) {
		t.Errorf("finish: exit %d, want web/svc01 finished from %s to %s:\n%s%s", code, v10, v11, stdout, stderr)
	}
	code, stdout, _ = c.run(t, "status", "--env", "dev", "-f", c.rel, "--json")
	var st struct {
		Envs []struct {
			Services []struct {
				Target   string `json:"target"`
				AtTarget bool   `json:"atTarget"`
			} `json:"services"`
		} `json:"environments"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || code != cli.ExitOK {
		t.Fatalf("status --json: exit %d, %v\n%s", code, err, stdout)
	}
	if s := st.Envs[0].Services[0]; s.Target != v11 || !s.AtTarget {
		t.Errorf("status -f --json: target %q at target %v, want %s, true", s.Target, s.AtTarget, v11)
	}

	code, stdout, stderr = c.run(t, append([]string{"rollback", "--env", "dev", "-f", c.rel}, quick...)...)
	if state, img := c.image(t); code != cli.ExitOK || state != "active" || img != v10 {
		t.Fatalf("rollback: exit %d, service %s %s, want active %s\n%s%s", code, state, img, v10, stdout, stderr)
	}
	code, stdout, stderr = c.run(t, append([]string{"rollback", "--env", "dev", "-f", c.rel}, quick...)...)
	if state, img := c.image(t); code != cli.ExitOK || state != "active" || img != v10 || !strings.Contains(stdout, "left at "+v10+": its previous image is the release's own "+v11) {
		t.Errorf("second rollback: exit %d, service %s %s, want it left at %s with a note\n%s%s", code, state, img, v10, stdout, stderr)
	}

	// A pending upgrade rolled back by Rancher: from the new image, to the old.
	if code, stdout, stderr = c.run(t, append([]string{"apply", "-f", c.rel, "--finish", "manual"}, quick...)...); code != cli.ExitOK {
		t.Fatalf("apply --finish manual: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = c.run(t, "rollback", "--env", "dev")
	if code != cli.ExitOK || !strings.Contains(stdout, "rolled-back  active  healthy  "+v11+"  "+v10) {
		t.Errorf("rollback of a pending upgrade: exit %d, want web/svc01 rolled back from %s to %s:\n%s%s", code, v11, v10, stdout, stderr)
	}
}
