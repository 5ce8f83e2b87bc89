package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"example", []string{"validate", "-c", "../../hosts.yaml", "--check-files=false"}, cli.ExitOK, "rancher:\n  url: https://rancher.example.com\n", ""},
		{"prewarm-only inventory is fine without credentials", []string{"validate", "-c", "../../testdata/hosts/good-minimal.yaml"}, cli.ExitOK, "- name: dev\n", ""},
		{"but rollout needs Rancher", []string{"validate", "-c", "../../testdata/hosts/good-minimal.yaml", "--require-credentials"}, cli.ExitUsage, "",
			"rollout: ../../testdata/hosts/good-minimal.yaml: 2 problems:\n" +
				"../../testdata/hosts/good-minimal.yaml:2: rancher.url: required: this command talks to Rancher\n" +
				"../../testdata/hosts/good-minimal.yaml:8: environments[dev].credentials: required to talk to Rancher: set accessKeyEnv and secretKeyEnv here or in defaults.credentials\n"},
		{"bad inventory", []string{"validate", "-c", "../../testdata/hosts/bad-unknown-region.yaml"}, cli.ExitUsage, "",
			`bad-unknown-region.yaml:9: environments[dmz-ap].region: unknown region "ap" (registries.regions has: eu, us)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := cli.Main(t.Context(), "rollout", commands(), tt.args, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.code, errb.String())
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out.String())
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errb.String())
			}
		})
	}
}
