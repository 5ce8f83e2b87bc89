package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/cli/clitest"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestLabPruneHintRuns: a pull that fills a lab host's disk offers a
// prune, and that prune runs as printed against the lab and succeeds, in
// each of its forms: with the release (-f, as run and pull -f print it),
// with the lock (pull --lock) and with the repository (pull reading the
// lock in the current directory), with the lab's Rancher keys set as an
// operator's are. TestPruneCommandRuns only parsed them,
// against a host that does not answer. Not parallel: t.Chdir, t.Setenv.
func TestLabPruneHintRuns(t *testing.T) {
	const size = 256 << 10
	l := labtest.New(t, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 1, Images: []string{"app:1.0", "app:1.1"},
		ImageSize: size, Layers: 2, DiskCapacity: size + size/4})
	for _, kv := range l.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := filepath.Join(t.TempDir(), "my release")
	inv, rel, lock := filepath.Join(dir, "hosts.yaml"), filepath.Join(dir, "release.yaml"), filepath.Join(dir, "release.lock.json")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	src := l.Inventory().Registries.Source.Address
	release := func(tag string) {
		write(t, rel, fmt.Sprintf("version: 1\nimages:\n  - name: app\n    ref: %s/app:%s\n", src, tag))
	}
	release("1.0")
	if code, _, stderr := run(t, "run", "-c", inv, "-f", rel); code != cli.ExitOK {
		t.Fatalf("prewarm run of app:1.0: exit %d\n%s", code, stderr)
	}
	release("1.1")
	if code, _, stderr := run(t, "mirror", "-c", inv, "-f", rel); code != cli.ExitOK {
		t.Fatalf("prewarm mirror of app:1.1: exit %d\n%s", code, stderr)
	}
	t.Chdir(dir)
	env := l.Inventory().Environments[0].Name
	for _, tc := range []struct {
		name string
		args []string
		want string // the form of the printed prune
	}{
		{"release", []string{"pull", "-c", inv, "-f", rel}, "prewarm prune -c " + cli.Quote(inv) + " -f " + cli.Quote(rel) + " --env " + env},
		{"lock", []string{"pull", "-c", inv, "--lock", lock}, "prewarm prune -c " + cli.Quote(inv) + " --lock " + cli.Quote(lock) + " --env " + env},
		{"repository", []string{"pull", "-c", inv}, "prewarm prune -c " + cli.Quote(inv) + " --repo app --env " + env},
	} {
		code, _, stderr := run(t, append(tc.args, "--retries", "0")...)
		if code != cli.ExitFailed || !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "`"+tc.want+"`") {
			t.Fatalf("%s: pull onto a full disk: exit %d, want 1 and `%s`:\n%s", tc.name, code, tc.want, stderr)
		}
		cmds, err := clitest.Commands(stderr)
		if err != nil {
			t.Fatal(err)
		}
		var ran int
		for _, words := range cmds {
			if len(words) < 2 || words[1] != "prune" {
				continue
			}
			ran++
			if code, stdout, stderr := run(t, words[1:]...); code != cli.ExitOK {
				t.Errorf("%s: the printed %q: exit %d, want 0 (a printed command must run as printed)\n%s%s", tc.name, words, code, stdout, stderr)
			}
		}
		if ran == 0 || !slices.ContainsFunc(cmds, func(w []string) bool { return strings.Join(w, " ") == strings.ReplaceAll(tc.want, "'", "") }) {
			t.Errorf("%s: printed commands %q, want %s", tc.name, cmds, tc.want)
		}
	}
}
