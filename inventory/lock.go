package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distribution/reference"

	"github.com/drover-dev/drover/internal/atomicfile"
	"github.com/opencontainers/go-digest"
)

// ReadLock reads a lock file written by WriteLock. Unknown fields and a
// version other than 1 are errors, and so is a file larger than MaxLockBytes.
func ReadLock(path string) (*Lock, error) {
	// Stat before opening: opening a FIFO for reading would wait for a writer.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read lock: %s is not a regular file (a lock is the file prewarm mirror writes beside the release)", path)
	}
	if fi.Size() > MaxLockBytes {
		return nil, fmt.Errorf("read lock: %s is larger than %s; is this the right file?", path, sizeString(MaxLockBytes))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	defer f.Close()
	return readLock(f, path)
}

// readLock is ReadLock from a reader; name is used in messages.
func readLock(r io.Reader, path string) (*Lock, error) {
	b, err := readLimited(r, path, MaxLockBytes)
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var l Lock
	if err := dec.Decode(&l); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("read lock %s:%d: %w", path, 1+bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n")), err)
		}
		// Decoding errors echo field names, which come from the file.
		return nil, fmt.Errorf("read lock %s: %s", path, clipN(err.Error(), 256))
	}
	if l.Version != Version {
		return nil, fmt.Errorf("read lock %s: unsupported version %d (this Drover reads version %d)", path, l.Version, Version)
	}
	var errs []error
	seen := map[string]bool{}
	for i, im := range l.Images {
		if err := im.check(); err != nil {
			errs = append(errs, fmt.Errorf("images[%d] (%s): %w", i, clip(im.Name), err))
		}
		if seen[im.Name] && im.Name != "" {
			errs = append(errs, fmt.Errorf("images[%d] (%s): listed twice", i, im.Name))
		}
		seen[im.Name] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("read lock %s: %w", path, err)
	}
	return &l, nil
}

// check reports what makes im unusable: hosts would pull and tag
// references built from these fields.
func (im LockImage) check() error {
	if im.Name == "" {
		return errors.New("name is required")
	}
	if err := tooLong("name", im.Name); err != nil {
		return err
	}
	named, err := reference.WithName(im.Repository)
	if err != nil {
		return fmt.Errorf("repository %s: %w", quote(im.Repository), err)
	}
	if im.Tag != "" {
		if _, err := reference.WithTag(named, im.Tag); err != nil {
			return fmt.Errorf("tag %s: %w", quote(im.Tag), err)
		}
	}
	d, err := digest.Parse(im.Digest)
	if err == nil && d.Algorithm() != digest.SHA256 {
		err = fmt.Errorf("algorithm %s", d.Algorithm())
	}
	if err != nil {
		return fmt.Errorf("digest %s is not a sha256 digest (%w)", quote(im.Digest), err)
	}
	if len(im.Manifests) > maxLockManifests {
		return fmt.Errorf("manifests: %d entries, at most %d", len(im.Manifests), maxLockManifests)
	}
	for i, m := range im.Manifests {
		if m.OS == "" || m.Architecture == "" {
			return fmt.Errorf("manifests[%d]: os and architecture are required", i)
		}
		if m.Digest != "" {
			if d, err := digest.Parse(m.Digest); err != nil || d.Algorithm() != digest.SHA256 {
				return fmt.Errorf("manifests[%d]: digest %s is not a sha256 digest", i, quote(m.Digest))
			}
		}
	}
	return nil
}

// maxLockManifests bounds an index's entries in a lock (real indexes list a
// few platforms; a hand-edited lock is read whole before it is checked).
const maxLockManifests = 256

// WriteLock writes l to path atomically: a temporary file in the same
// directory, synced, then renamed over path, so readers see the old lock or
// the new one, never half of one. The file is 0644 less the umask. Version
// 0 is written as 1.
func WriteLock(path string, l *Lock) error {
	if l.Version == 0 {
		l.Version = Version
	}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	b = append(b, '\n')
	if err := atomicfile.WriteFile(path, b); err != nil {
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	return nil
}

// ErrLockMismatch is wrapped by the error of (*Lock).Matches.
var ErrLockMismatch = errors.New("the lock does not match the release")

// LockMismatch is one difference between a lock and its release.
type LockMismatch struct {
	Image      string // image name; "" for the source registry
	ReleaseRef string // the release's reference ("" when the release lacks the image)
	LockRef    string // the lock's reference ("" when the lock lacks the image)
	Source     string // the inventory's source registry (Image == "")
	LockSource string // the lock's source registry (Image == "")
}

func (m LockMismatch) String() string {
	switch {
	case m.Image == "":
		return fmt.Sprintf("the lock was resolved at %s, the inventory's source is %s", m.LockSource, m.Source)
	case m.LockRef == "":
		return fmt.Sprintf("image %s: the release has %s, the lock does not have it", m.Image, m.ReleaseRef)
	case m.ReleaseRef == "":
		return fmt.Sprintf("image %s: the lock has %s, the release does not have it", m.Image, m.LockRef)
	}
	return fmt.Sprintf("image %s: the release has %s, the lock has %s", m.Image, m.ReleaseRef, m.LockRef)
}

// LockMismatchError lists every difference between a lock and its release.
type LockMismatchError struct {
	Mismatches []LockMismatch
}

func (e *LockMismatchError) Error() string {
	parts := make([]string, len(e.Mismatches))
	for i, m := range e.Mismatches {
		parts[i] = m.String()
	}
	return ErrLockMismatch.Error() + ": " + strings.Join(parts, "; ")
}

// Unwrap returns ErrLockMismatch.
func (e *LockMismatchError) Unwrap() error { return ErrLockMismatch }

// SourceChanged reports whether the lock was resolved at another source
// registry (re-resolving it then needs --relock).
func (e *LockMismatchError) SourceChanged() bool {
	return slices.ContainsFunc(e.Mismatches, func(m LockMismatch) bool { return m.Image == "" })
}

// Matches reports whether l is the lock of rel resolved at source: the
// same image names, each locked from the reference the release gives it,
// and (when both are known) the same source registry. A lock that does not
// match would deploy or pull images the release no longer names, so every
// reader of a release and its lock checks this once. The error is a
// *LockMismatchError naming every difference.
func (l *Lock) Matches(rel *Release, source string) error {
	var ms []LockMismatch
	if l.Source != "" && source != "" && l.Source != source {
		ms = append(ms, LockMismatch{Source: source, LockSource: l.Source})
	}
	for _, ri := range rel.Images {
		li, ok := l.Image(ri.Name)
		if !ok || li.Ref != ri.Ref {
			ms = append(ms, LockMismatch{Image: ri.Name, ReleaseRef: ri.Ref, LockRef: li.Ref})
		}
	}
	for _, li := range l.Images {
		if rel.Image(li.Name) == nil {
			ms = append(ms, LockMismatch{Image: li.Name, LockRef: li.Ref})
		}
	}
	if len(ms) > 0 {
		return &LockMismatchError{Mismatches: ms}
	}
	return nil
}

// Image returns the locked image called name.
func (l *Lock) Image(name string) (LockImage, bool) {
	for _, im := range l.Images {
		if im.Name == name {
			return im, true
		}
	}
	return LockImage{}, false
}

// PullRef is what a host in the region of registry regionAddr pulls:
// "<regionAddr>/<repository>@<digest>", the exact bits of the lock.
func (im LockImage) PullRef(regionAddr string) string {
	return regionAddr + "/" + im.Repository + "@" + im.Digest
}

// DeployRef is what Rancher deploys in that region:
// "<regionAddr>/<repository>:<tag>" (prewarm tags the pulled image so), or
// the digest form when the release named a digest rather than a tag.
func (im LockImage) DeployRef(regionAddr string) string {
	if im.Tag == "" {
		return im.PullRef(regionAddr)
	}
	return regionAddr + "/" + im.Repository + ":" + im.Tag
}

// LockFile is the name of a release's lock file.
const LockFile = "release.lock.json"

// LockPath is where a release's lock lives: lock when given (--lock), else
// release.lock.json beside the release file, else in the current directory.
func LockPath(release, lock string) string {
	switch {
	case lock != "":
		return lock
	case release != "":
		return filepath.Join(filepath.Dir(release), LockFile)
	}
	return LockFile
}
