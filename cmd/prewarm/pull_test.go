package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
)

const dockerSock = "unix:///var/run/docker.sock"

func needDocker(t *testing.T) {
	t.Helper()
	c, err := client.New(client.WithHost(dockerSock))
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err = c.Ping(ctx, client.PingOptions{})
		cancel()
		_ = c.Close()
	}
	if err != nil {
		if os.Getenv("DROVER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("DROVER_REQUIRE_DOCKER=1 but no Docker daemon at %s: %v", dockerSock, err)
		}
		t.Skipf("no Docker daemon at %s (%v); set DROVER_REQUIRE_DOCKER=1 to fail instead", dockerSock, err)
	}
}

func serveRegistry(t *testing.T) string {
	srv := httptest.NewServer(ggcrregistry.New())
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func push(t *testing.T, ref string) {
	t.Helper()
	img, err := random.Image(16<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithContext(t.Context())); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(t.Context(), "prewarm", commands(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestCommandsRealDocker drives run, status, pull and prune through the
// CLI against the real dockerd, with a source and a region registry.
func TestCommandsRealDocker(t *testing.T) {
	t.Parallel()
	needDocker(t)
	source, region := serveRegistry(t), serveRegistry(t)
	repo := fmt.Sprintf("prewarm-cmd/app-%d", time.Now().UnixNano())
	push(t, source+"/"+repo+":1.0")
	t.Cleanup(func() { removeRepo(region + "/" + repo) })

	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	writeFile(t, inv, fmt.Sprintf(`version: 1
registries:
  source: {address: "%s", insecure: true}
  regions:
    r1: {address: "%s", insecure: true}
environments:
  - name: test
    region: r1
    hosts:
      - {name: local, docker: "%s"}
  - name: broken
    region: r1
    hosts:
      - {name: gone, docker: "tcp://127.0.0.1:1"}
`, source, region, dockerSock))
	rel := filepath.Join(dir, "release.yaml")
	writeFile(t, rel, fmt.Sprintf("version: 1\nimages:\n  - {name: app, ref: \"%s/%s:1.0\"}\n", source, repo))
	report, metrics := filepath.Join(dir, "report.json"), filepath.Join(dir, "prewarm.prom")

	code, out, errs := run(t, "run", "-c", inv, "-f", rel, "--env", "test", "--report", report, "--metrics-file", metrics)
	if code != cli.ExitOK {
		t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	var rr prewarm.Report
	if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &rr) != nil || len(rr.NotReady) != 0 || len(rr.Pull.Hosts) != 1 {
		t.Errorf("report %s: %v %+v", report, err, rr)
	}
	if b, err := os.ReadFile(metrics); err != nil || !strings.Contains(string(b), `prewarm_hosts{env="test",state="ready"} 1`) {
		t.Errorf("metrics: %v\n%s", err, b)
	}
	if _, err := inventory.ReadLock(filepath.Join(dir, "release.lock.json")); err != nil {
		t.Errorf("run wrote no lock: %v", err)
	}

	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "status all present", args: []string{"status", "-c", inv, "-f", rel, "--env", "test"}, wantCode: 0, wantOut: "present"},
		{name: "pull again is a no-op", args: []string{"pull", "-c", inv, "-f", rel, "--env", "test"}, wantCode: 0, wantOut: "ready"},
		{name: "unreachable host named", args: []string{"pull", "-c", inv, "-f", rel, "--timeout", "5s", "--retries", "0"}, wantCode: 1, wantErr: "1 of 2 hosts not ready: gone"},
		{name: "status names unreachable", args: []string{"status", "-c", inv, "-f", rel, "--json"}, wantCode: 1, wantOut: `"unreachable"`},
		{name: "prune dry run keeps the lock's image", args: []string{"prune", "-c", inv, "-f", rel, "--env", "test", "--keep", "0", "--dry-run"}, wantCode: 0, wantOut: "lock"},
		{name: "no lock is a usage error", args: []string{"pull", "-c", inv, "--lock", filepath.Join(dir, "nope.json")}, wantCode: 2},
		{name: "unknown env is a usage error", args: []string{"status", "-c", inv, "-f", rel, "--env", "nope"}, wantCode: 2, wantErr: `"nope"`},
		{name: "seed needs a host", args: []string{"seed", "-c", inv, "-f", rel}, wantCode: 2},
		{name: "seed by endpoint", args: []string{"seed", "-c", inv, "-f", rel, "--docker", dockerSock, "--env", "test"}, wantCode: 0, wantOut: "ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) || !strings.Contains(errs, tc.wantErr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout %q, stderr %q", code, tc.wantCode, out, errs, tc.wantOut, tc.wantErr)
			}
		})
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeRepo(ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.New(client.WithHost(dockerSock))
	if err != nil {
		return
	}
	defer c.Close()
	res, err := c.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", ref)})
	if err != nil {
		return
	}
	for _, im := range res.Items {
		_, _ = c.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	}
}

// TestHandEditedLock: a lock whose digest was mistyped is a usage error
// naming the file, the image and the field, before any host is called
// (was: every host retried "invalid reference format" and the run exited 1).
func TestHandEditedLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	writeFile(t, inv, "version: 1\nregistries:\n  source: {address: \"127.0.0.1:1\"}\n  regions:\n    r1: {address: \"127.0.0.1:1\"}\n"+
		"environments:\n  - name: test\n    region: r1\n    hosts:\n      - {name: h1, docker: \"tcp://127.0.0.1:1\"}\n")
	lock := filepath.Join(dir, "release.lock.json")
	writeFile(t, lock, `{"version": 1, "source": "127.0.0.1:1", "images": [{"name": "app", "ref": "127.0.0.1:1/team/app:1.4",
	  "repository": "team/app", "tag": "1.4", "digest": "sha256:7dex82bfbd894221b02f73c4d4a19d8c04c37ee6f1f3de4fd43399e266ed9dba"}]}`)
	for _, cmd := range []string{"pull", "status", "seed"} {
		args := []string{cmd, "-c", inv, "--lock", lock, "--retries", "3"}
		switch cmd {
		case "status":
			args = args[:len(args)-2]
		case "seed":
			args = append(args, "--host", "h1", "--no-rancher")
		}
		code, _, errs := run(t, args...)
		if code != cli.ExitUsage || !strings.Contains(errs, lock) || !strings.Contains(errs, `images[0] (app): digest "sha256:7dex`) {
			t.Errorf("%s: exit %d (want 2), stderr %q: want the file, the image and its digest named", cmd, code, errs)
		}
	}
}

// TestPruneKeepFromInventory: prune takes retention.keep from the
// environment, including an explicit 0 (keep no previous image), unless
// --keep is given. Real dockerd.
func TestPruneKeepFromInventory(t *testing.T) {
	t.Parallel()
	needDocker(t)
	region := serveRegistry(t)
	repo := fmt.Sprintf("prewarm-cmd/prune-%d", time.Now().UnixNano())
	t.Cleanup(func() { removeRepo(region + "/" + repo) })
	base := time.Now().Add(-time.Hour)
	var images []string
	for i, tag := range []string{"1.0", "1.1"} {
		images = append(images, pushCreated(t, region+"/"+repo+":"+tag, base.Add(time.Duration(i)*time.Minute)))
	}
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	writeFile(t, inv, fmt.Sprintf(`version: 1
registries:
  source: {address: "%s", insecure: true}
  regions:
    r1: {address: "%s", insecure: true}
environments:
  - name: test
    region: r1
    retention: {keep: 0}
    hosts:
      - {name: local, docker: "%s"}
`, region, region, dockerSock))
	lock := filepath.Join(dir, "release.lock.json")
	for i, tag := range []string{"1.0", "1.1"} {
		writeFile(t, lock, fmt.Sprintf(`{"version": 1, "source": "%s", "images": [{"name": "app", "ref": "%s/%s:%s", "repository": "%s", "tag": "%s", "digest": "%s"}]}`,
			region, region, repo, tag, repo, tag, images[i]))
		if code, out, errs := run(t, "pull", "-c", inv, "--lock", lock); code != cli.ExitOK {
			t.Fatalf("pull %s: exit %d\n%s\n%s", tag, code, out, errs)
		}
	}
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{name: "retention.keep 0", want: "would remove 1 images"},
		{name: "--keep 1 wins", args: []string{"--keep", "1"}, want: "would remove 0 images"},
	} {
		code, out, errs := run(t, append([]string{"prune", "-c", inv, "--lock", lock, "--dry-run"}, tc.args...)...)
		if code != cli.ExitOK || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want %q\nstdout:\n%s\nstderr:\n%s", tc.name, code, tc.want, out, errs)
		}
	}
}

// pushCreated pushes a small linux/amd64 image created at created and
// returns its digest.
func pushCreated(t *testing.T, ref string, created time.Time) string {
	t.Helper()
	img, err := random.Image(16<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created.Time = created
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithContext(t.Context())); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}
