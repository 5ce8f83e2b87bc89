package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/cli/clitest"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestLabPruneHintRuns: a pull that fills a lab host's disk holding only
// the image prune keeps as current says that nothing can be pruned safely
// there and the bytes the image needs, and names the prune's dry run
// (which shows it), which runs as printed against the lab and succeeds, in
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
		tc.want += " --dry-run --hosts " + l.Inventory().Environments[0].Hosts[0].Name
		code, _, stderr := run(t, append(tc.args, "--retries", "0")...)
		if code != cli.ExitFailed || !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "`"+tc.want+"`") {
			t.Fatalf("%s: pull onto a full disk: exit %d, want 1 and `%s`:\n%s", tc.name, code, tc.want, stderr)
		}
		if !strings.Contains(stderr, "Nothing can be pruned safely there") || !regexp.MustCompile(`needs at least [0-9]+ bytes`).MatchString(stderr) ||
			!strings.Contains(stderr, "Grow the host's disk") || strings.Contains(stderr, "Free space with") {
			t.Errorf("%s: the host holds only the current image: want nothing to prune and the bytes needed, not a prune:\n%s", tc.name, stderr)
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
			code, stdout, stderr := run(t, words[1:]...)
			if code != cli.ExitOK {
				t.Errorf("%s: the printed %q: exit %d, want 0 (a printed command must run as printed)\n%s%s", tc.name, words, code, stdout, stderr)
			}
			if !strings.Contains(stdout, "would remove 0 images, 0 B freed") {
				t.Errorf("%s: the printed dry run %q says it would free something:\n%s", tc.name, words, stdout)
			}
		}
		if ran == 0 || !slices.ContainsFunc(cmds, func(w []string) bool { return strings.Join(w, " ") == strings.ReplaceAll(tc.want, "'", "") }) {
			t.Errorf("%s: printed commands %q, want %s", tc.name, cmds, tc.want)
		}
	}
}

// TestLabPruneHintWhenPruneFrees: on a full host that holds an image prune
// would remove (retention.keep 0, an image older than the current one),
// the error still offers the prune itself, not "nothing can be pruned";
// that prune frees the room and the pull then succeeds. With the lab's
// Rancher keys set, as an operator's are. Not parallel: t.Setenv.
func TestLabPruneHintWhenPruneFrees(t *testing.T) {
	const size = 256 << 10 // two layers: a base the tags share, and their own
	l := labtest.New(t, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 1, Images: []string{"app:1.0", "app:1.1", "app:1.2"},
		ImageSize: size, Layers: 2, DiskCapacity: size*2 - size/4})
	for _, kv := range l.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	inv, rel := filepath.Join(dir, "hosts.yaml"), filepath.Join(dir, "release.yaml")
	if err := l.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	write(t, inv, strings.Replace(string(b), "version: 1\n", "version: 1\ndefaults:\n  retention: {keep: 0}\n", 1))
	src := l.Inventory().Registries.Source.Address
	for _, tag := range []string{"1.0", "1.1"} {
		write(t, rel, fmt.Sprintf("version: 1\nimages:\n  - name: app\n    ref: %s/app:%s\n", src, tag))
		if code, _, stderr := run(t, "run", "-c", inv, "-f", rel); code != cli.ExitOK {
			t.Fatalf("prewarm run of app:%s: exit %d\n%s", tag, code, stderr)
		}
	}
	write(t, rel, fmt.Sprintf("version: 1\nimages:\n  - name: app\n    ref: %s/app:1.2\n", src))
	code, _, stderr := run(t, "run", "-c", inv, "-f", rel, "--retries", "0")
	want := "prewarm prune -c " + cli.Quote(inv) + " -f " + cli.Quote(rel) + " --env " + l.Inventory().Environments[0].Name
	if code != cli.ExitFailed || !strings.Contains(stderr, "Free space with `"+want+"`") || strings.Contains(stderr, "Nothing can be pruned") {
		t.Fatalf("run of app:1.2 onto a full disk holding app:1.0 and app:1.1: exit %d, want 1 and `%s` offered:\n%s", code, want, stderr)
	}
	words, err := clitest.Commands(stderr)
	if err != nil || len(words) == 0 {
		t.Fatalf("commands in %q: %v", stderr, err)
	}
	if code, stdout, stderr := run(t, words[0][1:]...); code != cli.ExitOK || !strings.Contains(stdout, "removed 1 images") {
		t.Fatalf("the printed %q: exit %d, want 0 and app:1.0 removed\n%s%s", words[0], code, stdout, stderr)
	}
	if code, _, stderr := run(t, "pull", "-c", inv, "-f", rel); code != cli.ExitOK {
		t.Errorf("pull after the prune: exit %d\n%s", code, stderr)
	}
}
