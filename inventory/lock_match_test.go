package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockMatches(t *testing.T) {
	t.Parallel()
	const digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	rel := func(refs ...string) *Release {
		r := &Release{Version: 1}
		for _, ref := range refs {
			name, _, _ := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
			r.Images = append(r.Images, ReleaseImage{Name: name, Ref: ref})
		}
		return r
	}
	lock := &Lock{Version: 1, Source: "build:5000", Images: []LockImage{
		{Name: "app", Ref: "build:5000/team/app:1.1", Repository: "team/app", Tag: "1.1", Digest: digest},
		{Name: "db", Ref: "build:5000/team/db:2", Repository: "team/db", Tag: "2", Digest: digest},
	}}
	tests := []struct {
		name   string
		rel    *Release
		source string
		want   []string // in the error, in order; nil: matches
	}{
		{name: "same", rel: rel("build:5000/team/app:1.1", "build:5000/team/db:2"), source: "build:5000"},
		{name: "source unknown", rel: rel("build:5000/team/app:1.1", "build:5000/team/db:2")},
		{name: "release edited back to an older tag", rel: rel("build:5000/team/app:1.0", "build:5000/team/db:2"), source: "build:5000",
			want: []string{"image app: the release has build:5000/team/app:1.0, the lock has build:5000/team/app:1.1"}},
		{name: "image added to the release", rel: rel("build:5000/team/app:1.1", "build:5000/team/db:2", "build:5000/team/web:3"), source: "build:5000",
			want: []string{"image web: the release has build:5000/team/web:3, the lock does not have it"}},
		{name: "image removed from the release", rel: rel("build:5000/team/app:1.1"), source: "build:5000",
			want: []string{"image db: the lock has build:5000/team/db:2, the release does not have it"}},
		{name: "source moved", rel: rel("build:5000/team/app:1.1", "build:5000/team/db:2"), source: "build2:5000",
			want: []string{"the lock was resolved at build:5000, the inventory's source is build2:5000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := lock.Matches(tt.rel, tt.source)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Matches = %v, want nil", err)
				}
				return
			}
			var me *LockMismatchError
			if !errors.Is(err, ErrLockMismatch) || !errors.As(err, &me) {
				t.Fatalf("Matches = %v, want a *LockMismatchError", err)
			}
			if me.SourceChanged() != (tt.source == "build2:5000") {
				t.Errorf("SourceChanged = %v", me.SourceChanged())
			}
			rest := err.Error()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("Matches = %v, want it to say %q", err, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// A hand-edited lock naming an image twice is refused: readers look images
// up by name and would pick one of the two.
func TestReadLockDuplicateName(t *testing.T) {
	t.Parallel()
	const digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	im := `{"name": "app", "ref": "team/app:1", "repository": "team/app", "tag": "1", "digest": "` + digest + `", "mediaType": "x"}`
	p := filepath.Join(t.TempDir(), "release.lock.json")
	if err := os.WriteFile(p, []byte(`{"version": 1, "images": [`+im+`, `+im+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLock(p); err == nil || !strings.Contains(err.Error(), "images[1] (app): listed twice") {
		t.Errorf("ReadLock = %v, want images[1] (app): listed twice", err)
	}
}

// TestReadLockChecksManifests: an index entry of a hand-edited lock needs
// an os, an architecture and (when given) a sha256 digest; they reach the
// hosts' platform choice and pulls.
func TestReadLockChecksManifests(t *testing.T) {
	t.Parallel()
	const digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	for _, tc := range []struct{ manifests, want string }{
		{`[{"os": "windows", "architecture": "amd64", "digest": "` + digest + `"}]`, ""},
		{`[{"os": "", "architecture": "amd64"}]`, "manifests[0]: os and architecture are required"},
		{`[{"os": "linux", "architecture": "amd64", "digest": "md5:abc"}]`, `manifests[0]: digest "md5:abc" is not a sha256 digest`},
	} {
		im := `{"name": "app", "ref": "team/app:1", "repository": "team/app", "tag": "1", "digest": "` + digest + `", "mediaType": "x", "manifests": ` + tc.manifests + `}`
		p := filepath.Join(t.TempDir(), "release.lock.json")
		if err := os.WriteFile(p, []byte(`{"version": 1, "images": [`+im+`]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ReadLock(p)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("manifests %s: ReadLock = %v, want %q", tc.manifests, err, tc.want)
		}
	}
}
