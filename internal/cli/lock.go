package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/drover-dev/drover/inventory"
)

// CheckLock is the check every command that reads a release and its lock
// makes before using them: the lock must be the release's, resolved at the
// inventory's source (inventory.(*Lock).Matches). A lock that does not
// match is a usage error (exit 2) naming each image, both references, and
// the command that locks the release again. lockFlag is --lock as given.
func CheckLock(env *Env, inv *inventory.Inventory, rel *inventory.Release, lock *inventory.Lock, lockAt, lockFlag string) error {
	err := lock.Matches(rel, inv.Registries.Source.Address)
	var me *inventory.LockMismatchError
	if !errors.As(err, &me) {
		return err
	}
	return Usage("%s does not match %s: %v; lock the release again with `%s`",
		lockAt, rel.File, strings.TrimPrefix(me.Error(), inventory.ErrLockMismatch.Error()+": "),
		MirrorCommand(env, rel.File, lockFlag, me.SourceChanged()))
}

// MirrorCommand is the command that resolves release and writes its lock:
// "prewarm mirror -c FILE -f RELEASE [--lock LOCK] [--relock]", as it runs.
func MirrorCommand(env *Env, release, lockFlag string, relock bool) string {
	cmd := fmt.Sprintf("prewarm mirror -c %s -f %s", Quote(env.ConfigPath()), Quote(release))
	if lockFlag != "" {
		cmd += " --lock " + Quote(lockFlag)
	}
	if relock {
		cmd += " --relock"
	}
	return cmd
}

// Quote quotes s for a POSIX shell when it needs it, so that a printed
// command runs as printed.
func Quote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
