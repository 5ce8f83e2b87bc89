package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/distribution/reference"

	"github.com/drover-dev/drover/internal/atomicfile"
	"github.com/opencontainers/go-digest"
)

// ReadLock reads a lock file written by WriteLock. Unknown fields and a
// version other than 1 are errors, and so is a file larger than MaxLockBytes.
func ReadLock(path string) (*Lock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxLockBytes {
		return nil, fmt.Errorf("read lock: %s is larger than %s; is this the right file?", path, sizeString(MaxLockBytes))
	}
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
	for i, im := range l.Images {
		if err := im.check(); err != nil {
			errs = append(errs, fmt.Errorf("images[%d] (%s): %w", i, clip(im.Name), err))
		}
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
	return nil
}

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
