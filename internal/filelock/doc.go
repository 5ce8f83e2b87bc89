// Package filelock takes an exclusive, non-blocking lock on a local file (flock(2)), so
// a command started from cron does not overlap a run of itself that is still going.
//
// The lock belongs to the open file description: it is released by [Lock.Unlock], by
// closing, or by the process exiting (a crashed run leaves no stale lock). Two opens
// of the same path conflict even within one process. On systems without flock,
// [TryLock] returns an error wrapping errors.ErrUnsupported.
//
// It never blocks waiting for a lock, never deletes the lock file, and never follows a
// symbolic link at the lock's path.
package filelock
