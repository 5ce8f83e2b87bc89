package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/cli"
)

// TestUnsetCredentials: a Rancher key variable the inventory names but the
// environment lacks is a configuration error: exit 2 at once, naming every
// missing variable, before any Rancher call (none is retried).
func TestUnsetCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := `version: 1
registries:
  source: {address: "127.0.0.1:1", insecure: true}
  regions:
    eu: {address: "127.0.0.1:2", insecure: true}
rancher:
  url: http://127.0.0.1:1
  insecure: true
environments:
  - name: dev
    region: eu
    credentials: {accessKeyEnv: DROVER_TEST_UNSET_DEV_ACCESS, secretKeyEnv: DROVER_TEST_UNSET_DEV_SECRET}
    hosts: [{name: dev-01, docker: "tcp://127.0.0.1:3"}]
  - name: qa
    region: eu
    credentials: {accessKeyEnv: DROVER_TEST_UNSET_QA_ACCESS, secretKeyEnv: DROVER_TEST_UNSET_QA_SECRET}
    hosts: [{name: qa-01, docker: "tcp://127.0.0.1:4"}]
`
	path := filepath.Join(dir, "hosts.yaml")
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"status"},
		{"plan", "--service", "web/a=reg/app:2"},
		{"apply", "--service", "web/a=reg/app:2"},
		{"rollback", "--env", "dev,qa"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			start := time.Now()
			code := cli.Main(t.Context(), "rollout", commands(), append(args, "-c", path), &out, &errb)
			if code != cli.ExitUsage {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, cli.ExitUsage, out.String(), errb.String())
			}
			for _, want := range []string{"environment dev: $DROVER_TEST_UNSET_DEV_ACCESS is not set", "environment qa: $DROVER_TEST_UNSET_QA_ACCESS is not set"} {
				if !strings.Contains(errb.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errb.String())
				}
			}
			if strings.Contains(errb.String(), "retrying") || time.Since(start) > 400*time.Millisecond {
				t.Errorf("took %v, retried a configuration error:\n%s", time.Since(start), errb.String())
			}
		})
	}
}
