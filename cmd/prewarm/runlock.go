package main

import (
	"errors"
	"fmt"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/filelock"
	"github.com/drover-dev/drover/inventory"
)

// lockRun keeps prewarm run (the nightly job, from cron) from overlapping
// itself: a file lock beside the release's lock file, held for the whole
// run. A second run exits 4 naming the holder's pid, having done nothing
// (not even written its report, which would replace the running one's).
func lockRun(f *fleetFlags) (*filelock.Lock, error) {
	if f.release == "" {
		return nil, nil // nightly says what is missing
	}
	l, err := filelock.TryLock(inventory.LockPath(f.release, f.lock) + ".run.lock")
	if errors.Is(err, filelock.ErrLocked) {
		return nil, cli.Busy(fmt.Errorf("another prewarm run of %s is still going: %w; nothing was done", f.release, err))
	}
	if err != nil {
		return nil, cli.Failed(err)
	}
	return l, nil
}
