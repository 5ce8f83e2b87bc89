package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadRelease: any input is a release or an error made of field errors
// with short messages, never a panic.
func FuzzReadRelease(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(releaseDir, "*.yaml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("version: 1\nimages: [{name: a, ref: 'x/a:1'}]\nservices: [{service: s/a, image: a, sidekicks: {l: a}}]\n"))
	f.Add([]byte("version: 1\nimages: &i [*i]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rel, err := ReadRelease(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			if len(FieldErrors(err)) == 0 {
				t.Fatalf("error is not a FieldError: %v", err)
			}
			for _, fe := range FieldErrors(err) {
				if len(fe.Msg) > 1024 {
					t.Fatalf("message of %d bytes: %.200s", len(fe.Msg), fe.Msg)
				}
			}
			return
		}
		_ = rel.ImageNames()
		for _, s := range rel.Services {
			_ = rel.ServicesFor(firstOr(s.Environments, "x"))
		}
	})
}

// FuzzReadLock: any input is a usable lock (every image has a name, a
// repository and a sha256 digest, so the references built from it parse)
// or an error with a short message, never a panic.
func FuzzReadLock(f *testing.F) {
	good := Lock{Version: 1, Source: "build.example.com", Images: []LockImage{{Name: "app", Ref: "team/app:1.4",
		Repository: "team/app", Tag: "1.4", Digest: "sha256:" + strings.Repeat("a", 64), MediaType: "application/vnd.oci.image.index.v1+json",
		Platforms: []string{"linux/amd64"}}}}
	b, _ := json.MarshalIndent(good, "", "  ")
	f.Add(b)
	f.Add([]byte(`{"version": 1, "images": [{"name": "a", "repository": "A", "digest": "sha256:x"}]}`))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`{"version": 1, "x": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := readLock(bytes.NewReader(data), "fuzz.lock.json")
		if err != nil {
			if len(err.Error()) > 4096 {
				t.Fatalf("error of %d bytes: %.200s", len(err.Error()), err)
			}
			return
		}
		for _, im := range l.Images {
			if err := im.check(); err != nil {
				t.Fatalf("accepted an unusable image: %v", err)
			}
			if ref := im.DeployRef("r.example.com"); !strings.HasPrefix(ref, "r.example.com/") {
				t.Fatalf("DeployRef = %q", ref)
			}
		}
	})
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}
