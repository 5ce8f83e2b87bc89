package filelock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrLocked is returned by [TryLock] when another open file holds the lock.
var ErrLocked = errors.New("locked by another run")

// Lock is a held file lock.
type Lock struct {
	f *os.File
}

// TryLock opens (creating if needed) the file at path and takes an exclusive lock on it
// without waiting. When another run holds it, the error wraps [ErrLocked] and names the
// process id that run wrote into the file. The holder's pid is written into the file.
// A symbolic link at path is refused, not followed: the file is truncated to hold the
// pid, and the link's target (anyone's file) would be.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o644)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("lock %s: a symbolic link: remove it (the lock file is created as a plain file)", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := flock(f); err != nil {
		holder := ""
		// The holder wrote its pid (a few bytes); read no more than that,
		// and only digits count.
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		if pid := strings.TrimSpace(string(b[:n])); pid != "" && strings.Trim(pid, "0123456789") == "" {
			holder = " (pid " + pid + ")"
		}
		_ = f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("lock %s: %w%s", path, ErrLocked, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Best effort: the pid only helps a human reading the error above.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock. Calling it again does nothing.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	uerr := funlock(f)
	if err := errors.Join(uerr, f.Close()); err != nil {
		return fmt.Errorf("unlock %s: %w", f.Name(), err)
	}
	return nil
}
