package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/inventory"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, labtest.IgnoreLeaks()...)
}

// upWriter stops the lab (cancels ctx) as soon as it writes its inventory.
type upWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *upWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.cancel()
	return w.buf.Write(p)
}

func (w *upWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestUpPrintsInventoryAndStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout := &upWriter{cancel: cancel}
	var stderr bytes.Buffer
	args := []string{"up", "--regions", "3", "--envs", "4", "--hosts-per-env", "5",
		"--images", "app:1.0,app:1.1", "--image-size", "256KiB", "--layers", "4",
		"--link", "region=eu-west:100MB/s,1ms", "--fault", "registry=eu-west:5xx@3"}
	start := time.Now()
	code := cli.Main(ctx, "lab", commands(), args, stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	t.Logf("up, print and stop took %v", time.Since(start))
	inv, err := inventory.Load(strings.NewReader(stdout.String()), "stdout")
	if err != nil {
		t.Fatalf("printed inventory does not load: %v\n%s", err, stdout.String())
	}
	if err := inv.Validate(); err != nil {
		t.Errorf("printed inventory is invalid: %v", err)
	}
	hosts := 0
	for _, e := range inv.Environments {
		hosts += len(e.Hosts)
	}
	if len(inv.Registries.Regions) != 3 || len(inv.Environments) != 4 || hosts != 20 {
		t.Errorf("inventory has %d regions, %d environments, %d hosts", len(inv.Registries.Regions), len(inv.Environments), hosts)
	}
	if strings.Contains(stderr.String(), "SECRET_KEY=") {
		t.Errorf("stderr shows secrets: %s", stderr.String())
	}
}

func TestUpWritesFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "hosts.yaml")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// With --write nothing goes to stdout; stop once the file exists.
	done := make(chan int, 1)
	go func() {
		var out, errb bytes.Buffer
		done <- cli.Main(ctx, "lab", commands(), []string{"up", "--regions", "1", "--envs", "1", "--hosts-per-env", "1", "--image-size", "64KiB", "--write", path}, &out, &errb)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path + ".env"); err == nil {
			if _, err := os.Stat(path); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("lab up did not write its files in 30s")
		}
		time.Sleep(20 * time.Millisecond) // polling for a file another goroutine writes
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := inventory.LoadFile(path); err != nil {
		t.Errorf("written inventory: %v", err)
	}
	st, err := os.Stat(path + ".env")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("env file: %v, mode %v", err, st.Mode())
	}
	env, _ := os.ReadFile(path + ".env")
	if !strings.Contains(string(env), "export LAB_DEV_ACCESS_KEY=") {
		t.Errorf("env file = %q", env)
	}
}

func TestUpUsageErrors(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{"up", "--image-size", "lots"},
		{"up", "--regions", "0"},
		{"up", "--link", "mars:1MB/s"},
		{"up", "--fault", "registry=eu-west:teapot"},
		{"up", "--impl", "quay"},
		{"up", "--services", "1", "--host-port", "70000"},
		{"up", "--host-port", "8080"},
		{"up", "extra"},
		{"up", "--windows-hosts", "dev", "--windows-build", "2019"},
		{"up", "--windows-build", "10.0.17763"},
		// Parsed, but the lab has no such host: refused once it is up.
		{"up", "--regions", "1", "--envs", "1", "--hosts-per-env", "1", "--image-size", "64KiB", "--fault", "host=nowhere:down"},
		// Refused by lab.Start, before anything starts.
		{"up", "--via-rancher", "nope"},
		{"up", "--windows-hosts", "nope"},
		{"up", "--regions", "1", "--foreign-layers-mirror", "us-east"},
	}
	for _, args := range tests {
		var out, errb bytes.Buffer
		if code := cli.Main(t.Context(), "lab", commands(), args, &out, &errb); code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, cli.ExitUsage, errb.String())
		}
		// The tool name is printed once, by cli.Main, never again by the lab.
		if got := errb.String(); !strings.HasPrefix(got, "lab: ") || strings.Contains(got, "lab: lab:") {
			t.Errorf("%v: stderr = %q, want one \"lab: \" prefix", args, got)
		}
	}
}

func TestUpJSON(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout := &upWriter{cancel: cancel}
	var stderr bytes.Buffer
	args := []string{"up", "--json", "--regions", "2", "--envs", "3", "--hosts-per-env", "1", "--image-size", "64KiB",
		"--multi-arch", "app:multi", "--foreign", "win:1", "--discover", "qa", "--source-auth",
		"--services", "2", "--batch-size", "1", "--batch-interval", "200", "--host-port", "18080"}
	if code := cli.Main(ctx, "lab", commands(), args, stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var d lab.Description
	if err := json.Unmarshal([]byte(stdout.String()), &d); err != nil {
		t.Fatalf("stdout is not a description: %v\n%s", err, stdout.String())
	}
	if len(d.Regions) != 2 || len(d.Envs) != 3 || len(d.Images) != 4 || d.Rancher == "" || len(d.Services) != 2 {
		t.Errorf("description = %+v", d)
	}
	inv, err := inventory.Load(strings.NewReader(d.HostsYAML), "hostsYaml")
	if err != nil {
		t.Fatal(err)
	}
	if e := inv.Environments[0]; e.Strategy.BatchSize != 1 || e.Strategy.IntervalMillis != 200 {
		t.Errorf("dev strategy = %+v, want the flags'", e.Strategy)
	}
	if inv.Environments[1].Discover == nil {
		t.Errorf("qa is not discovered: %+v", inv.Environments[1])
	}
	for _, name := range d.SecretEnvs {
		if strings.Contains(stdout.String(), name+"=") {
			t.Errorf("stdout shows the value of %s", name)
		}
	}
}

// lab up --windows-hosts makes the lab's images manifest lists of linux and
// two Windows builds, and those environments' hosts Windows of the build.
func TestUpWindowsHosts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout := &upWriter{cancel: cancel}
	var stderr bytes.Buffer
	args := []string{"up", "--json", "--regions", "1", "--envs", "2", "--hosts-per-env", "1", "--image-size", "64KiB",
		"--windows-hosts", "qa", "--windows-build", "10.0.20348"}
	if code := cli.Main(ctx, "lab", commands(), args, stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var d lab.Description
	if err := json.Unmarshal([]byte(stdout.String()), &d); err != nil {
		t.Fatalf("stdout is not a description: %v\n%s", err, stdout.String())
	}
	want := []string{"linux/amd64", "windows/amd64:10.0.17763.6054", "windows/amd64:10.0.20348.2582"}
	for _, im := range d.Images {
		if strings.Join(im.Platforms, " ") != strings.Join(want, " ") {
			t.Errorf("image %s platforms %v, want %v", im.Ref, im.Platforms, want)
		}
	}
}
