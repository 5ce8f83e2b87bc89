package inventory

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const releaseDir = "../testdata/release"

func TestLoadRelease(t *testing.T) {
	t.Parallel()
	rel, err := LoadRelease(filepath.Join(releaseDir, "good-release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rel.ImageNames(); !reflect.DeepEqual(got, []string{"app", "app-logger", "winbase"}) {
		t.Errorf("ImageNames = %v", got)
	}
	if im := rel.Image("app-logger"); im == nil || im.Ref != "build.example.com/team/logger:2.0" {
		t.Errorf("Image(app-logger) = %v", im)
	}
	var services []string
	for _, s := range rel.ServicesFor("dmz-eu") {
		services = append(services, s.Service)
	}
	if !reflect.DeepEqual(services, []string{"web/frontend", "web/worker"}) {
		t.Errorf("ServicesFor(dmz-eu) = %v", services)
	}
	inv, err := LoadFile("../hosts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := rel.Validate(inv); err != nil {
		t.Errorf("Validate against hosts.yaml: %v", err)
	}
}

func TestLoadReleaseErrors(t *testing.T) {
	t.Parallel()
	inv, err := LoadFile("../hosts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		inv  *Inventory
		want []string
	}{
		{"bad-release.yaml", nil, []string{
			`4: images[app].ref: "build.example.com/team/app": needs a tag or digest (never an implicit :latest)`,
			`5: images[app].name: duplicate image "app"`,
			`8: images[other].ref: duplicate reference build.example.com/team/app:1.4`,
			`10: images[upper].ref: "build.example.com/Team/App:1": invalid reference format: repository name (Team/App) must be lowercase`,
			`11: images[4].name: required`,
			`13: services[frontend].service: want stack/service, got "frontend"`,
			`16: services[web/frontend].image: unknown image "ap" (images has: app, other, upper)`,
			`17: services[web/frontend].sidekicks.logger: unknown image "nope"`,
			`18: services[web/frontend].service: duplicate service "web/frontend"`,
			`20: services[web/frontend].environments[1]: duplicate environment "dmz-eu"`,
		}},
		{"bad-release-keys.yaml", nil, []string{
			`5: images[app].tag: unknown key (want one of: name, ref)`,
			`8: services[web/frontend].service: duplicate key (first at line 7)`,
			`10: services[web/frontend].environments: want a list, got string "dmz-eu"`,
		}},
		{"bad-release-envs.yaml", inv, []string{
			`6: services[web/frontend].environments[1]: unknown environment "dmz-mars" (the inventory has: dev, qa, demo, dmz-eu, dmz-us, dmz-ap)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			rel, err := LoadRelease(filepath.Join(releaseDir, tt.file))
			if err == nil {
				err = rel.Validate(tt.inv)
			}
			var got []string
			for _, fe := range FieldErrors(err) {
				if fe.File != filepath.Join(releaseDir, tt.file) {
					t.Errorf("File = %q", fe.File)
				}
				got = append(got, strings.TrimPrefix(fe.Error(), fe.File+":"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if _, err := LoadRelease(filepath.Join(releaseDir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing release: %v", err)
	}
}

func TestLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "release.lock.json")
	lock := &Lock{
		Created: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC),
		Source:  "build.example.com",
		Images: []LockImage{
			{Name: "app", Ref: "build.example.com/team/app:1.4", Repository: "team/app", Tag: "1.4", Digest: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", MediaType: "application/vnd.oci.image.index.v1+json", Platforms: []string{"linux/amd64"}},
			{Name: "base", Ref: "build.example.com/base/win@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Repository: "base/win", Digest: "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", MediaType: "application/vnd.docker.distribution.manifest.v2+json"},
		},
	}
	if err := WriteLock(path, lock); err != nil {
		t.Fatal(err)
	}
	// Overwrite: the rename replaces the old file, and no temp file stays.
	lock.Images[0].Digest = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	if err := WriteLock(path, lock); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in %s: %v", dir, entries)
	}
	got, err := ReadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, lock) || got.Version != 1 {
		t.Errorf("ReadLock:\n got %+v\nwant %+v", got, lock)
	}
	app, ok := got.Image("app")
	base, ok2 := got.Image("base")
	if _, ok3 := got.Image("nope"); !ok || !ok2 || ok3 {
		t.Fatal("Image lookups wrong")
	}
	refs := []struct{ got, want string }{
		{app.PullRef("registry.eu:5000"), "registry.eu:5000/team/app@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"},
		{app.DeployRef("registry.eu:5000"), "registry.eu:5000/team/app:1.4"},
		{base.PullRef("127.0.0.1:5001"), "127.0.0.1:5001/base/win@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		{base.DeployRef("127.0.0.1:5001"), "127.0.0.1:5001/base/win@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
	}
	for _, r := range refs {
		if r.got != r.want {
			t.Errorf("got %s, want %s", r.got, r.want)
		}
	}

	A := "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	bad := map[string]string{
		"unknown field": `{"version":1,"images":[],"extra":1}`,
		"version":       `{"version":2,"images":[]}`,
		"no digest":     `{"version":1,"images":[{"name":"a","repository":"r","digest":""}]}`,
		"not json":      `version: 1`,
	}
	// A hand-edited lock: hosts would pull references built from these
	// fields, so each is checked and named (image index and name).
	image := func(fields string) string {
		return `{"version":1,"images":[{"name":"ok","repository":"team/ok","digest":"` + A + `"},{"name":"app",` + fields + `}]}`
	}
	for name, tc := range map[string]struct{ content, want string }{
		"digest typo":      {image(`"repository":"team/app","digest":"sha256:7dex` + A[11:] + `"`), `images[1] (app): digest "sha256:7dex`},
		"digest truncated": {image(`"repository":"team/app","digest":"sha256:7dee"`), "images[1] (app): digest"},
		"not sha256":       {image(`"repository":"team/app","digest":"sha512:` + strings.Repeat("a", 128) + `"`), "not a sha256 digest"},
		"repository":       {image(`"repository":"Team/App","digest":"` + A + `"`), `images[1] (app): repository "Team/App"`},
		"tag":              {image(`"repository":"team/app","tag":"1.4 ","digest":"` + A + `"`), `images[1] (app): tag "1.4 "`},
		"syntax, line":     {"{\"version\": 1,\n\"images\": [\n{\"name\": \"app\",}\n]}", "lock.json:3: invalid character"},
	} {
		bad[name] = tc.content
		p := filepath.Join(t.TempDir(), "lock.json")
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadLock(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadLock = %v, want an error with %q", name, err, tc.want)
		}
	}
	for name, content := range bad {
		p := filepath.Join(t.TempDir(), "lock.json")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadLock(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: ReadLock = %v, want an error naming the file", name, err)
		}
	}
	if err := WriteLock(filepath.Join(dir, "no", "such", "dir.json"), lock); err == nil {
		t.Error("WriteLock into a missing directory succeeded")
	}
	b, _ := json.Marshal(lock)
	if strings.Contains(string(b), `"tag":""`) {
		t.Error("empty tag not omitted")
	}
}
