package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

func runPrewarm(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(t.Context(), "prewarm", commands(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		stderr     []string
		jsonOutput bool
	}{
		{"example without file checks", []string{"validate", "-c", "../../hosts.yaml", "--check-files=false"}, cli.ExitOK,
			[]string{"- name: dmz-ap\n", "docker: tcp://{{.AgentIP}}:2376\n", "#   RANCHER_QA_ACCESS_KEY"}, nil, false},
		{"example names TLS files this machine lacks", []string{"validate", "--config", "../../hosts.yaml"}, cli.ExitUsage,
			nil, []string{"prewarm: ../../hosts.yaml: ", " problems:\n", "hosts.yaml:" + exampleLine(t, "    ca: /etc/drover/tls/ca.pem") + ": defaults.tls.ca: stat /etc/drover/tls/ca.pem: no such file or directory\n"}, false},
		{"minimal as JSON", []string{"validate", "-c", "../../testdata/hosts/good-minimal.yaml", "--json"}, cli.ExitOK,
			[]string{`"batchSize": 1`, `"timeout": "30m"`}, nil, true},
		{"bad strategy: every problem", []string{"validate", "-c", "../../testdata/hosts/bad-strategy.yaml"}, cli.ExitUsage, nil, []string{
			"prewarm: ../../testdata/hosts/bad-strategy.yaml: 7 problems:\n",
			"../../testdata/hosts/bad-strategy.yaml:12: environments[dmz-eu].strategy.intervalMillis: must be at least 100 (Rancher's minimum), got 50\n",
			"../../testdata/hosts/bad-strategy.yaml:15: environments[dmz-eu].pull.timeout: must be positive, got 0s\n",
		}, false},
		{"one load error", []string{"validate", "-c", "../../testdata/hosts/bad-version-2.yaml"}, cli.ExitUsage, nil,
			[]string{"prewarm: ../../testdata/hosts/bad-version-2.yaml:1: version: unsupported version 2 (this Drover reads version 1)\n"}, false},
		{"missing file", []string{"validate", "-c", "no-such-hosts.yaml"}, cli.ExitUsage, nil,
			[]string{"prewarm: read inventory: open no-such-hosts.yaml: no such file or directory\n"}, false},
		{"arguments", []string{"validate", "-c", "../../hosts.yaml", "extra"}, cli.ExitUsage, nil,
			[]string{`prewarm: validate takes no arguments, got ["extra"]`}, false},
		{"help", []string{"validate", "--help"}, cli.ExitOK, nil, []string{"--require-credentials", "--check-files"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runPrewarm(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.code, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tt.code != cli.ExitOK && stdout != "" {
				t.Errorf("stdout on failure: %s", stdout)
			}
			if tt.jsonOutput {
				var v map[string]any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Errorf("--json output is not JSON: %v\n%s", err, stdout)
				}
			}
		})
	}
}

// Not parallel: t.Setenv.
func TestValidateRequireCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts.yaml")
	inv := `version: 1
registries:
  source: {address: "127.0.0.1:5000", credentials: {usernameEnv: DROVER_TEST_SRC_USER, passwordEnv: DROVER_TEST_SRC_PASS}}
  regions: {eu: {address: "127.0.0.1:5001"}}
environments:
  - {name: dev, region: eu, hosts: [{name: h, docker: "unix:///var/run/docker.sock"}]}
`
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DROVER_INVENTORY", path)
	t.Setenv("DROVER_TEST_SRC_USER", "robot")
	t.Setenv("DROVER_TEST_SRC_PASS", "")
	code, _, stderr := runPrewarm(t, "validate", "--require-credentials")
	if code != cli.ExitUsage || !strings.Contains(stderr, "hosts.yaml:3: registries.source.credentials.passwordEnv: $DROVER_TEST_SRC_PASS is not set") {
		t.Errorf("unset password: exit %d, stderr %s", code, stderr)
	}
	t.Setenv("DROVER_TEST_SRC_PASS", "pw-never-printed")
	code, stdout, stderr := runPrewarm(t, "validate", "--require-credentials")
	if code != cli.ExitOK || !strings.Contains(stdout, "DROVER_TEST_SRC_PASS  set") {
		t.Errorf("all set: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "pw-never-printed") {
		t.Error("a credential value was printed")
	}
}

// exampleLine is the line number of the first line of ../../hosts.yaml that
// is exactly line, so that documenting the example does not break the test.
func exampleLine(t *testing.T, line string) string {
	t.Helper()
	b, err := os.ReadFile("../../hosts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if l == line {
			return strconv.Itoa(i + 1)
		}
	}
	t.Fatalf("hosts.yaml has no line %q", line)
	return ""
}

// TestValidateDiscoverRancherFromEnv: a discover environment needs Rancher's
// URL and keys as discovery resolves them: plain validate checks names only
// (it refused a missing rancher.url although $RANCHER_URL supplies it), and
// --require-credentials takes rancher.url or $RANCHER_URL, named keys or
// $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY. Not parallel: t.Setenv.
func TestValidateDiscoverRancherFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts.yaml")
	inv := `version: 1
registries:
  source: {address: "127.0.0.1:5000"}
  regions: {eu: {address: "127.0.0.1:5001"}}
environments:
  - {name: dmz, region: eu, discover: {from: rancher, docker: rancher}}
`
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr []string
	}{
		{"plain: names only", nil, nil, cli.ExitOK, nil},
		{"require credentials: all from the environment", []string{"--require-credentials"},
			map[string]string{"RANCHER_URL": "https://rancher.example.com", "RANCHER_ACCESS_KEY": "ak-never-printed", "RANCHER_SECRET_KEY": "sk-never-printed"}, cli.ExitOK, nil},
		{"require credentials: nothing", []string{"--require-credentials"}, nil, cli.ExitUsage, []string{
			"hosts.yaml:1: rancher.url: required: environment dmz reaches its hosts through Rancher: set it here or export $RANCHER_URL\n",
			"hosts.yaml:6: environments[dmz].credentials: required to talk to Rancher: set accessKeyEnv and secretKeyEnv (a key whose role has modifyInfra, e.g. an environment API key) here or in defaults.credentials, or export $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY\n",
		}},
		{"require credentials: one conventional key", []string{"--require-credentials"},
			map[string]string{"RANCHER_URL": "https://rancher.example.com", "RANCHER_SECRET_KEY": "sk-never-printed"}, cli.ExitUsage, []string{
				"hosts.yaml:6: environments[dmz].credentials: only $RANCHER_SECRET_KEY is set: set both $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY, or set accessKeyEnv and secretKeyEnv",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"RANCHER_URL", "RANCHER_ACCESS_KEY", "RANCHER_SECRET_KEY"} {
				t.Setenv(k, tt.env[k])
			}
			code, stdout, stderr := runPrewarm(t, append([]string{"validate", "-c", path}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.code, stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stdout+stderr, "never-printed") {
				t.Error("a key's value was printed")
			}
		})
	}
}
