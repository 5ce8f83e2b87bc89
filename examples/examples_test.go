package examples

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// cronJob is one line of a cron.d file.
type cronJob struct {
	line    int
	fields  [5]string
	user    string
	command string
}

var cronField = regexp.MustCompile(`^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$`)

// parseCron reads a cron.d file as cron does: comments, NAME=value lines,
// and jobs of five time fields, a user and the rest of the line as the
// command. A trailing backslash, a % (cron turns it into a newline) or a
// bad field is an error.
func parseCron(b []byte) ([]cronJob, error) {
	var jobs []cronJob
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			errs = append(errs, fmt.Errorf("line %d: ends with a backslash: cron has no line continuation", n))
			continue
		}
		f := strings.Fields(line)
		if len(f) > 0 && regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(f[0]) {
			continue // an environment setting
		}
		if len(f) < 7 {
			errs = append(errs, fmt.Errorf("line %d: want 5 time fields, a user and a command, got %d fields", n, len(f)))
			continue
		}
		j := cronJob{line: n, user: f[5]}
		for i := range 5 {
			if !cronField.MatchString(f[i]) {
				errs = append(errs, fmt.Errorf("line %d: time field %d %q", n, i+1, f[i]))
			}
			j.fields[i] = f[i]
		}
		j.command = strings.Join(f[6:], " ")
		if strings.Contains(j.command, "%") {
			errs = append(errs, fmt.Errorf("line %d: unescaped %% (cron makes it a newline)", n))
		}
		jobs = append(jobs, j)
	}
	return jobs, errors.Join(errs...)
}

func TestParseCronRejects(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"continuation": "0 1 * * * drover prewarm run \\\n  -f release.yaml\n",
		"no user":      "0 1 * * * prewarm\n",
		"bad field":    "0 25h * * * drover prewarm run\n",
		"percent":      "0 1 * * * drover date +%F\n",
	} {
		if _, err := parseCron([]byte(in)); err == nil {
			t.Errorf("%s: parseCron accepted %q", name, in)
		}
	}
}

// prewarmCommands returns every prewarm command line (its arguments after
// the binary) in s: the words after "prewarm" or ".../prewarm" up to the
// end of the shell command.
func prewarmCommands(s string) [][]string {
	var out [][]string
	for _, part := range regexp.MustCompile(`&&|;|\|\|`).Split(s, -1) {
		f := strings.Fields(part)
		if i := slices.IndexFunc(f, func(w string) bool { return w == "prewarm" || strings.HasSuffix(w, "/prewarm") }); i >= 0 {
			out = append(out, f[i+1:])
		}
	}
	return out
}

func TestCron(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("cron.d/drover")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := parseCron(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].user != "drover" || len(prewarmCommands(jobs[0].command)) != 1 {
		t.Errorf("jobs: %+v", jobs)
	}
	// The README shows the nightly line as it is here.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if line := strings.Split(string(b), "\n")[jobs[0].line-1]; !strings.Contains(string(readme), "\n"+line+"\n") {
		t.Errorf("README.md lacks the nightly line of cron.d/drover:\n%s", line)
	}
}

// tool finds a checker on PATH; without it the test skips, unless
// DROVER_REQUIRE_DOCKER=1 (CI, whose .ci/run installs it).
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("DROVER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("%s is required (DROVER_REQUIRE_DOCKER=1) but not installed: apt-get install %s (.ci/run does)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s): not checked", name, pkg)
	}
	return p
}

func TestSystemdVerify(t *testing.T) {
	t.Parallel()
	sa := tool(t, "systemd-analyze", "systemd")
	// verify wants ExecStart's binary to exist: point it at a real one.
	dir := t.TempDir()
	units, _ := filepath.Glob("systemd/*")
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("/usr/local/bin/prewarm"), []byte("/bin/true"))
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(u)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"verify"}
	for _, u := range units {
		args = append(args, filepath.Join(dir, filepath.Base(u)))
	}
	out, err := exec.CommandContext(t.Context(), sa, args...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// unitExecStarts returns the ExecStart= values of a unit file.
func unitExecStarts(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ExecStart="); ok {
			out = append(out, v)
		}
	}
	return out
}

// cloudConfigKeys are the top-level keys cloud-init's modules read (from
// its module reference, docs.cloud-init.io "Module reference"): the ones
// an example of ours may reasonably use. A key outside it is a typo
// cloud-init would ignore with a warning ("run_cmd"), never run.
var cloudConfigKeys = []string{
	"apt", "bootcmd", "ca_certs", "chpasswd", "disk_setup", "final_message", "fqdn", "fs_setup",
	"groups", "growpart", "hostname", "locale", "manage_etc_hosts", "mounts", "ntp", "output",
	"package_reboot_if_required", "package_update", "package_upgrade", "packages", "power_state",
	"preserve_hostname", "resize_rootfs", "rsyslog", "runcmd", "snap", "ssh_authorized_keys",
	"ssh_pwauth", "swap", "timezone", "users", "write_files", "yum_repos",
}

// parseCloudConfig reads user-data as cloud-init does: a #cloud-config
// first line, one YAML mapping of known module keys (each once), and
// runcmd a list whose items are each a command: a list of words (run
// without a shell) or a string (run by sh). It returns runcmd's commands,
// a string one as [sh -c STRING].
func parseCloudConfig(b []byte) ([][]string, error) {
	if !bytes.HasPrefix(b, []byte("#cloud-config\n")) {
		return nil, errors.New("user-data must start with a #cloud-config line")
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("want one YAML mapping of cloud-config keys")
	}
	var errs []error
	var cmds [][]string
	seen := map[string]bool{}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch {
		case !slices.Contains(cloudConfigKeys, k.Value):
			errs = append(errs, fmt.Errorf("line %d: %q is not a cloud-config key (want one of %s)", k.Line, k.Value, strings.Join(cloudConfigKeys, ", ")))
		case seen[k.Value]:
			errs = append(errs, fmt.Errorf("line %d: %q given twice", k.Line, k.Value))
		}
		seen[k.Value] = true
		if k.Value != "runcmd" {
			continue
		}
		if v.Kind != yaml.SequenceNode {
			errs = append(errs, fmt.Errorf("line %d: runcmd: want a list of commands", v.Line))
			continue
		}
		for _, c := range v.Content {
			var words []string
			switch c.Kind {
			case yaml.ScalarNode:
				words = []string{"sh", "-c", c.Value}
			case yaml.SequenceNode:
				if err := c.Decode(&words); err != nil {
					errs = append(errs, fmt.Errorf("line %d: runcmd: %w", c.Line, err))
					continue
				}
			default: // a mapping, an alias: no command
			}
			if len(words) == 0 {
				errs = append(errs, fmt.Errorf("line %d: runcmd: want a command (a list of words, or a string)", c.Line))
				continue
			}
			cmds = append(cmds, words)
		}
	}
	return cmds, errors.Join(errs...)
}

func TestParseCloudConfigRejects(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"no header":       "runcmd:\n  - [true]\n",
		"typo key":        "#cloud-config\nrun_cmd:\n  - [true]\n",
		"twice":           "#cloud-config\nruncmd: [[true]]\nruncmd: [[false]]\n",
		"runcmd a string": "#cloud-config\nruncmd: systemctl start docker\n",
		"empty command":   "#cloud-config\nruncmd:\n  - []\n",
		"nested command":  "#cloud-config\nruncmd:\n  - [[a, b]]\n",
		"not a mapping":   "#cloud-config\n- runcmd\n",
	} {
		if _, err := parseCloudConfig([]byte(in)); err == nil {
			t.Errorf("%s: parseCloudConfig accepted %q", name, in)
		}
	}
	cmds, err := parseCloudConfig([]byte("#cloud-config\npackages: [jq]\nruncmd:\n  - [systemctl, start, docker]\n  - echo hi\n"))
	if want := [][]string{{"systemctl", "start", "docker"}, {"sh", "-c", "echo hi"}}; err != nil || !slices.EqualFunc(cmds, want, slices.Equal) {
		t.Errorf("parseCloudConfig = %q, %v; want %q", cmds, err, want)
	}
}

// cloudInit reads the snippet (parseCloudConfig) and returns its runcmd.
func cloudInit(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("cloud-init/drover-seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := parseCloudConfig(b)
	if err != nil {
		t.Fatalf("cloud-init/drover-seed.yaml: %v", err)
	}
	return cmds
}

// TestCloudInitSchema: cloud-init's own schema check accepts the snippet
// (and, so that the check is known to bite, refuses a runcmd that is not a
// list). cloud-init 22.4 does not reject unknown keys: parseCloudConfig
// does.
func TestCloudInitSchema(t *testing.T) {
	t.Parallel()
	ci := tool(t, "cloud-init", "cloud-init")
	schema := func(path string) ([]byte, error) {
		return exec.CommandContext(t.Context(), ci, "schema", "--config-file", path).CombinedOutput()
	}
	if out, err := schema("cloud-init/drover-seed.yaml"); err != nil {
		t.Errorf("cloud-init schema: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("#cloud-config\nruncmd: systemctl start docker\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := schema(bad); err == nil {
		t.Errorf("cloud-init schema accepted a runcmd that is not a list: the check does not bite\n%s", out)
	}
}

func TestCloudInitOrder(t *testing.T) {
	t.Parallel()
	cmds := cloudInit(t)
	seed := slices.IndexFunc(cmds, func(c []string) bool { return len(prewarmCommands(strings.Join(c, " "))) > 0 })
	agent := slices.IndexFunc(cmds, func(c []string) bool {
		return slices.ContainsFunc(c, func(w string) bool { return strings.HasPrefix(w, "rancher/agent") })
	})
	if seed < 0 || agent < 0 || seed > agent {
		t.Errorf("runcmd must seed (at %d) before it starts the Rancher agent (at %d): %v", seed, agent, cmds)
	}
}

// TestCommandsRunOnLab runs every prewarm command line of the examples,
// built as the binary, against a lab: paths and names become the lab's,
// every flag stays as written, and each must exit 0.
func TestCommandsRunOnLab(t *testing.T) {
	if testing.Short() {
		t.Skip("builds prewarm and starts a lab")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "prewarm")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../cmd/prewarm").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l := labtest.New(t, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 2, Services: 1,
		Images: []string{"app:1.0"}, ImageSize: 32 << 10, Layers: 2})
	dir := t.TempDir()
	inv, rel := filepath.Join(dir, "hosts.yaml"), filepath.Join(dir, "release.yaml")
	if err := l.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	li := l.Inventory()
	if err := os.WriteFile(rel, fmt.Appendf(nil, "version: 1\nimages:\n  - name: app\n    ref: %s/app:1.0\n", li.Registries.Source.Address), 0o600); err != nil {
		t.Fatal(err)
	}
	// The values operators write, and the lab's for them.
	labValues := map[string]string{
		"-c": inv, "-f": rel, "--env": li.Environments[0].Name, "--docker": li.Environments[0].Hosts[0].Docker,
		"--report": filepath.Join(dir, "report.json"), "--metrics-file": filepath.Join(dir, "drover.prom"),
	}
	type cmdLine struct {
		from string
		args []string
	}
	var lines []cmdLine
	b, err := os.ReadFile("cron.d/drover")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := parseCron(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		for _, a := range prewarmCommands(j.command) {
			lines = append(lines, cmdLine{fmt.Sprintf("cron.d/drover:%d", j.line), a})
		}
	}
	for _, u := range []string{"systemd/drover-prewarm.service", "systemd/drover-seed.service"} {
		for _, x := range unitExecStarts(t, u) {
			for _, a := range prewarmCommands(strings.ReplaceAll(x, "${DROVER_ENV}", "dmz-eu")) {
				lines = append(lines, cmdLine{u, a})
			}
		}
	}
	for _, c := range cloudInit(t) {
		for _, a := range prewarmCommands(strings.Join(c, " ")) {
			lines = append(lines, cmdLine{"cloud-init/drover-seed.yaml", a})
		}
	}
	if len(lines) != 5 {
		t.Fatalf("found %d prewarm command lines, want 5 (2 cron, 2 systemd, 1 cloud-init): %v", len(lines), lines)
	}
	for _, c := range lines {
		args := slices.Clone(c.args)
		for i := 1; i < len(args); i++ {
			if v, ok := labValues[args[i-1]]; ok {
				args[i] = v
			}
		}
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = append(os.Environ(), l.Environ()...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: prewarm %s: %v\n%s", c.from, strings.Join(c.args, " "), err, out)
		}
	}
}
