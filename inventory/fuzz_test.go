package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"go.yaml.in/yaml/v3"
)

// FuzzReadRelease: any input is a release or an error made of field errors,
// never a panic. Errors stay short (each message, and the whole in
// proportion to the input: a value is never copied into every path below
// it), and what is accepted writes out as YAML that reads back to the same
// release, so a release is never understood differently once written.
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
	f.Add([]byte("version: 1\nimages: [{name: a, ref: 'x/a:1'}]\nservices: [{service: s/a, image: a, environments: [dev, '1.0']}]\n"))
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
			if n := len(err.Error()); n > maxErrorBytes(data) {
				t.Fatalf("error of %d bytes for %d bytes of input: %.300s", n, len(data), err)
			}
			return
		}
		_ = rel.ImageNames()
		for _, s := range rel.Services {
			_ = rel.ServicesFor(firstOr(s.Environments, "x"))
		}
		out, err := yaml.Marshal(rel)
		if err != nil {
			t.Fatalf("marshal an accepted release: %v", err)
		}
		back, err := ReadRelease(bytes.NewReader(out), "fuzz.yaml")
		if err != nil {
			t.Fatalf("an accepted release, written out, is refused: %v\n%s", err, out)
		}
		if again, err := yaml.Marshal(back); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip changed the release (%v):\n%s\n%s", err, out, again)
		}
	})
}

// maxErrorBytes bounds the error for an input of data: a few KiB plus a
// multiple of the input (every element of a list can be wrong, each named
// with its path), never a value copied into every path below it.
func maxErrorBytes(data []byte) int { return 4096 + 64*len(data) }

// FuzzReadLock: any input is a lock or a short error, never a panic. What
// is accepted is usable and stable: the references hosts pull and Rancher
// deploys, built from it, parse and name the locked repository, tag and
// digest; and the lock WriteLock would write from it reads back to the
// same bytes.
func FuzzReadLock(f *testing.F) {
	good := Lock{Version: 1, Source: "build.example.com", Images: []LockImage{{Name: "app", Ref: "team/app:1.4",
		Repository: "team/app", Tag: "1.4", Digest: "sha256:" + strings.Repeat("a", 64), MediaType: "application/vnd.oci.image.index.v1+json",
		Platforms: []string{"linux/amd64"}}}}
	b, _ := json.MarshalIndent(good, "", "  ")
	f.Add(b)
	f.Add([]byte(`{"version": 1, "images": [{"name": "a", "repository": "A", "digest": "sha256:x"}]}`))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`{"version": 1, "x": 1}`))
	f.Add([]byte(`{"version": 1, "created": "2025-01-02T03:04:05+01:00", "images": [{"name": "a", "repository": "a/b", "digest": "sha256:` + strings.Repeat("0", 64) + `", "platforms": []}]}`))
	const region = "r.example.com:5000"
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := readLock(bytes.NewReader(data), "fuzz.lock.json")
		if err != nil {
			if n := len(err.Error()); n > maxErrorBytes(data) {
				t.Fatalf("error of %d bytes for %d bytes of input: %.300s", n, len(data), err)
			}
			return
		}
		for _, im := range l.Images {
			if len(region)+1+len(im.Repository) > reference.RepositoryNameTotalLengthMax {
				continue // the region's address leaves the name no room
			}
			for _, ref := range []string{im.PullRef(region), im.DeployRef(region)} {
				r, err := reference.ParseNamed(ref)
				if err != nil {
					t.Fatalf("image %q: %q does not parse: %v", im.Name, ref, err)
				}
				if reference.Domain(r) != region || reference.Path(r) != im.Repository {
					t.Fatalf("image %q: %q names %s/%s", im.Name, ref, reference.Domain(r), reference.Path(r))
				}
				if d, ok := r.(reference.Digested); ok && d.Digest().String() != im.Digest {
					t.Fatalf("image %q: %q has digest %s, the lock %s", im.Name, ref, d.Digest(), im.Digest)
				}
				if tg, ok := r.(reference.Tagged); ok && tg.Tag() != im.Tag {
					t.Fatalf("image %q: %q has tag %s, the lock %q", im.Name, ref, tg.Tag(), im.Tag)
				}
			}
		}
		out, err := json.MarshalIndent(l, "", "  ")
		if err != nil {
			t.Fatalf("an accepted lock does not marshal: %v", err)
		}
		back, err := readLock(bytes.NewReader(out), "fuzz.lock.json")
		if err != nil {
			t.Fatalf("an accepted lock, written out, is refused: %v\n%s", err, out)
		}
		if again, err := json.MarshalIndent(back, "", "  "); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip changed the lock (%v):\n%s\n%s", err, out, again)
		}
	})
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}
