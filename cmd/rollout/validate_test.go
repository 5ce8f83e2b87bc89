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

// TestValidateRequireCredentialsAsRolloutConnects: rollout validate
// --require-credentials accepts Rancher's URL and keys where rollout takes
// them (rancher.url or $RANCHER_URL; named keys, or $RANCHER_ACCESS_KEY and
// $RANCHER_SECRET_KEY) and names both ways out when they are missing. Not
// parallel: t.Setenv.
func TestValidateRequireCredentialsAsRolloutConnects(t *testing.T) {
	const file = "../../testdata/hosts/good-minimal.yaml" // no rancher.url, no credentials
	tests := []struct {
		name   string
		env    map[string]string
		code   int
		stderr string
	}{
		{"nothing", nil, cli.ExitUsage, "rollout: " + file + ": 2 problems:\n" +
			file + ":2: rancher.url: required: this command talks to Rancher: set it here or export $RANCHER_URL\n" +
			file + ":8: environments[dev].credentials: required to talk to Rancher: set accessKeyEnv and secretKeyEnv here or in defaults.credentials, or export $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY\n"},
		{"all from the environment", map[string]string{"RANCHER_URL": "https://rancher.example.com", "RANCHER_ACCESS_KEY": "ak-never-printed", "RANCHER_SECRET_KEY": "sk-never-printed"}, cli.ExitOK, ""},
		{"one conventional key", map[string]string{"RANCHER_URL": "https://rancher.example.com", "RANCHER_ACCESS_KEY": "ak-never-printed"}, cli.ExitUsage,
			file + ":8: environments[dev].credentials: only $RANCHER_ACCESS_KEY is set: set both $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY, or set accessKeyEnv and secretKeyEnv here or in defaults.credentials\n"},
		{"http $RANCHER_URL", map[string]string{"RANCHER_URL": "http://rancher.example.com", "RANCHER_ACCESS_KEY": "ak-never-printed", "RANCHER_SECRET_KEY": "sk-never-printed"}, cli.ExitUsage,
			file + ":2: rancher.url: $RANCHER_URL: http://rancher.example.com is plain HTTP, which would send the API keys in clear: use https://, or set rancher.insecure: true to allow it\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"RANCHER_URL", "RANCHER_ACCESS_KEY", "RANCHER_SECRET_KEY"} {
				t.Setenv(k, tt.env[k])
			}
			var out, errb bytes.Buffer
			code := cli.Main(t.Context(), "rollout", commands(), []string{"validate", "-c", file, "--require-credentials"}, &out, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant it to contain:\n%s", code, tt.code, errb.String(), tt.stderr)
			}
			if strings.Contains(out.String()+errb.String(), "never-printed") {
				t.Error("a key's value was printed")
			}
		})
	}
}
