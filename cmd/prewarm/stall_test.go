package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab/registries"
)

// TestPullStallTimeout: a region registry that takes requests and never
// answers fails its hosts within --stall-timeout, naming the region, and
// no host is contacted (its docker address is a closed port: a pull
// attempt would say so instead).
func TestPullStallTimeout(t *testing.T) {
	t.Parallel()
	reg, err := registries.Start(t.Context(), registries.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	reg.Faults().Hang(true)
	t.Cleanup(func() { reg.Faults().Hang(false) })
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	writeFile(t, inv, fmt.Sprintf(`version: 1
registries:
  source: {address: "%[1]s", insecure: true}
  regions:
    eu: {address: "%[1]s", insecure: true}
environments:
  - name: test
    region: eu
    hosts:
      - {name: h1, docker: "tcp://127.0.0.1:1"}
`, reg.Addr()))
	lock := filepath.Join(dir, "release.lock.json")
	writeFile(t, lock, fmt.Sprintf(`{"version": 1, "source": "%[1]s", "images": [{"name": "app", "ref": "%[1]s/app:1.0", "repository": "app", "tag": "1.0", "digest": "sha256:%064d"}]}`, reg.Addr(), 1))

	code, out, errs := run(t, "pull", "-c", inv, "--lock", lock, "--stall-timeout", "300ms")
	if code != cli.ExitFailed || !strings.Contains(errs, "h1") || !strings.Contains(out+errs, "region eu unreachable: no answer within 300ms") {
		t.Errorf("pull from a hung region: exit %d, want 1 naming h1 and region eu unreachable\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if strings.Contains(out+errs, "127.0.0.1:1") {
		t.Errorf("a host of the hung region was contacted:\n%s\n%s", out, errs)
	}
	if code, _, errs := run(t, "pull", "-c", inv, "--lock", lock, "--stall-timeout", "0s"); code != cli.ExitUsage || !strings.Contains(errs, "--stall-timeout") {
		t.Errorf("--stall-timeout 0s: exit %d, want 2 naming the flag\n%s", code, errs)
	}
}
