package main

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

// TestSeedNpipe: `prewarm seed --docker npipe:////./pipe/docker_engine` is
// accepted (was: refused as a scheme other than unix:// or tcp://) and,
// off Windows, fails at the dial saying why; a malformed --docker is a
// usage error naming the flag.
func TestSeedNpipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	writeFile(t, inv, "version: 1\nregistries:\n  source: {address: \"127.0.0.1:1\"}\n  regions:\n    r1: {address: \"127.0.0.1:1\"}\n"+
		"environments:\n  - name: dmz\n    region: r1\n    hosts:\n      - {name: win-01, docker: \"npipe:////./pipe/docker_engine\"}\n")
	lock := filepath.Join(dir, "release.lock.json")
	writeFile(t, lock, `{"version": 1, "source": "127.0.0.1:1", "images": [{"name": "app", "ref": "127.0.0.1:1/team/app:1.4",
	  "repository": "team/app", "tag": "1.4", "digest": "sha256:7de182bfbd894221b02f73c4d4a19d8c04c37ee6f1f3de4fd43399e266ed9dba"}]}`)
	if code, _, errs := run(t, "seed", "-c", inv, "--lock", lock, "--docker", "npipe:///./pipe/docker_engine", "--env", "dmz", "--no-rancher"); code != cli.ExitUsage || !strings.Contains(errs, "--docker") {
		t.Errorf("malformed pipe: exit %d (want 2), stderr %q: want the flag named", code, errs)
	}
	if runtime.GOOS == "windows" {
		return // the pipe is dialled for real there
	}
	code, _, errs := run(t, "seed", "-c", inv, "--lock", lock, "--docker", "npipe:////./pipe/docker_engine", "--env", "dmz", "--no-rancher", "--retries", "0")
	if code != cli.ExitFailed || !strings.Contains(errs, "npipe:// endpoints are dialled on Windows only") {
		t.Errorf("seed: exit %d (want 1), stderr %q: want the Windows-only dial named", code, errs)
	}
}
