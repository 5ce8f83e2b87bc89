package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
)

// upSignal collects lab up's stdout and closes up at its first write, the
// lab then running until the test cancels it.
type upSignal struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	once sync.Once
	up   chan struct{}
}

func (w *upSignal) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.once.Do(func() { close(w.up) })
	return w.buf.Write(p)
}

// lab up --foreign-layers-mirror REGION writes foreignLayers: mirror for
// that region, and prewarm plan on the lab's hosts.yaml then names no host
// of it as fetching the --foreign image's layer from outside, only the
// hosts of the region left at urls.
func TestUpForeignLayersMirror(t *testing.T) {
	t.Parallel()
	bin := tools(t)
	ctx, cancel := context.WithCancel(t.Context())
	stdout := &upSignal{up: make(chan struct{})}
	var stderr bytes.Buffer
	args := []string{"up", "--json", "--regions", "2", "--envs", "2", "--hosts-per-env", "1", "--image-size", "64KiB",
		"--foreign", "win:1", "--foreign-layers-mirror", "eu-west"}
	done := make(chan int, 1)
	go func() { done <- cli.Main(ctx, "lab", commands(), args, stdout, &stderr) }()
	defer func() { cancel(); <-done }()
	select {
	case <-stdout.up:
	case code := <-done:
		done <- code // for the deferred receive
		t.Fatalf("lab up: exit %d: %s", code, stderr.String())
	}
	var d lab.Description
	stdout.mu.Lock()
	err := json.Unmarshal(stdout.buf.Bytes(), &d)
	stdout.mu.Unlock()
	if err != nil {
		t.Fatalf("stdout is not a description: %v", err)
	}
	inv, err := inventory.Load(strings.NewReader(d.HostsYAML), "hostsYaml")
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Registries.Regions["eu-west"].Mirrors() || inv.Registries.Regions["us-east"].Mirrors() {
		t.Errorf("regions %+v: want eu-west at foreignLayers: mirror, us-east at urls", inv.Registries.Regions)
	}

	dir := t.TempDir()
	hosts, release := filepath.Join(dir, "hosts.yaml"), filepath.Join(dir, "release.yaml")
	if err := os.WriteFile(hosts, []byte(d.HostsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(release, []byte("version: 1\nimages:\n  - name: win\n    ref: "+d.Source+"/win:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), filepath.Join(bin, "prewarm"), "plan", "-c", hosts, "-f", release, "--json").Output()
	if err != nil {
		t.Fatalf("prewarm plan: %v\n%s", err, out)
	}
	var plan struct {
		Outside []prewarm.OutsideFetch `json:"outsideFetches"`
	}
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatalf("prewarm plan --json: %v\n%s", err, out)
	}
	// dev is in eu-west (mirror), qa in us-east (urls).
	if len(plan.Outside) != 1 || plan.Outside[0].Env != "qa" || plan.Outside[0].Region != "us-east" || plan.Outside[0].Layers != 1 {
		t.Errorf("plan lists outside fetches %+v, want only qa's (us-east) one layer\n%s", plan.Outside, out)
	}
}
