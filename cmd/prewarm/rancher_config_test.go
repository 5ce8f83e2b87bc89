package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

// rancherInv writes an inventory whose environment dev names key variables
// no test sets, with rancher.url when url is given.
func rancherInv(t *testing.T, url string) string {
	t.Helper()
	inv := "version: 1\nregistries:\n  source: {address: src.example.com}\n  regions:\n    eu: {address: eu.example.com}\n"
	if url != "" {
		inv += "rancher:\n  url: " + url + "\n"
	}
	inv += "environments:\n  - name: dev\n    region: eu\n" +
		"    credentials: {accessKeyEnv: DROVER_TEST_RANCHER_UNSET_AK, secretKeyEnv: DROVER_TEST_RANCHER_UNSET_SK}\n" +
		"    hosts: [{name: dev-01, docker: \"unix:///nonexistent/docker.sock\"}]\n"
	path := filepath.Join(t.TempDir(), "hosts.yaml")
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rancherCommands are the prewarm commands for which Rancher is optional:
// each reads it when a URL is named, connected as rollout and discover are.
var rancherCommands = map[string][]string{
	"prune": {"prune", "--repo", "team/app", "--dry-run"},
	"seed":  {"seed", "--docker", "unix:///nonexistent/docker.sock", "--env", "dev"},
}

// TestRancherNotConfigured: prune and seed, like discover and rollout,
// reach Rancher through rancher.Connect: with rancher.url set, a key
// variable the inventory names but the environment lacks is a usage error
// (exit 2) naming it, before any host is touched (prune exited 1).
func TestRancherNotConfigured(t *testing.T) {
	t.Parallel()
	path := rancherInv(t, "https://rancher.example.com")
	for name, args := range rancherCommands {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runPrewarm(t, append([]string{"-c", path}, args...)...)
			if code != cli.ExitUsage || !strings.Contains(stderr, "$DROVER_TEST_RANCHER_UNSET_AK is not set") {
				t.Errorf("exit %d, want %d naming the unset key variable\nstderr: %s", code, cli.ExitUsage, stderr)
			}
		})
	}
}

// TestRancherURLFromEnv: without rancher.url, $RANCHER_URL names Rancher
// for prune and seed as it does for rollout and discover (they ignored it,
// and seeded or pruned without what Rancher runs). Not parallel: t.Setenv.
func TestRancherURLFromEnv(t *testing.T) {
	t.Setenv("RANCHER_URL", "https://rancher.example.com")
	path := rancherInv(t, "")
	for name, args := range rancherCommands {
		code, _, stderr := runPrewarm(t, append([]string{"-c", path}, args...)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, "$DROVER_TEST_RANCHER_UNSET_AK is not set") {
			t.Errorf("%s: exit %d, want %d naming the unset key variable\nstderr: %s", name, code, cli.ExitUsage, stderr)
		}
	}
}
