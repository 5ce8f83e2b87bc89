// Package atomicfile writes files the way Drover's outputs (the lock,
// reports, metrics) must be written: all or nothing, durable, and with the
// permissions the operator's umask allows.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Perm is the widest mode a written file gets; the umask narrows it (under
// umask 077 the file is 0600).
const Perm = 0o644

// WriteFile writes b to path through a temporary file in the same
// directory, synced, then renamed over path, and syncs the directory so the
// rename survives a crash: readers see the old file or the new one, never
// half of one. The file's mode is Perm less the umask.
func WriteFile(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := create(dir, "."+filepath.Base(path)+".tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil { //nolint:gosec // G703: the path is the operator's own output file
		return err
	}
	return syncDir(dir)
}

// create makes a new file in dir with mode Perm (less the umask, which
// os.CreateTemp's fixed 0600 would not honour).
func create(dir, prefix string) (*os.File, error) {
	for range 100 {
		var r [6]byte
		_, _ = rand.Read(r[:])
		name := filepath.Join(dir, prefix+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, Perm) //nolint:gosec // G703: beside the operator's own output file
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create a temporary file in %s: too many collisions", dir)
}

// syncDir makes a rename in dir durable. Where a directory cannot be
// synced (Windows), the rename is as durable as the system makes it.
func syncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // G703: the directory of the operator's own output file
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
