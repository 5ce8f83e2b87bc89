package fleet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/drover-dev/drover/internal/output"
)

// ErrNoSpace is the host's disk filling during a pull ("no space left on
// device"). It is not retried: the same pull fails the same way until
// space is freed. The *NoSpaceError that carries it names the bytes needed.
var ErrNoSpace = errors.New("no space left on device")

// NoSpaceError is a pull that filled the host's disk.
//
// Need is the sum of the compressed layer sizes the daemon announced for
// the image before it failed: a lower bound on what the pull needs (layers
// still waiting had not announced theirs, and extracted layers take more).
// The Docker Engine API reports no free space (/info and /system/df give
// used sizes only); where the host's free space is known otherwise
// (Target.Disk, from Rancher's host info), the pull is stopped as soon as
// the announced sizes exceed it, before the disk fills, and Free is set.
type NoSpaceError struct {
	Host, Env, Image string
	// Need and Downloaded are bytes (compressed).
	Need, Downloaded int64
	// Free is the host's known free bytes when the pull was stopped before
	// the disk filled (0 when the disk filled; then Err says which).
	Free int64
	// Prune is the command that frees space on the environment's hosts.
	Prune string
	Err   error
}

func (e *NoSpaceError) Error() string {
	if nr := (*noRoomError)(nil); errors.As(e.Err, &nr) {
		return fmt.Sprintf("%v: host %s (environment %s) has no room for %s, which needs at least %s (compressed; more once extracted): %v; the pull was stopped after %s, before the disk filled. Free space with `%s`, then pull again",
			ErrNoSpace, e.Host, e.Env, e.Image, output.HumanBytes(e.Need), e.Err, output.HumanBytes(e.Downloaded), e.Prune)
	}
	need := "its layers"
	if e.Need > 0 {
		need = "at least " + output.HumanBytes(e.Need) + " (compressed; more once extracted)"
	}
	return fmt.Sprintf("%v: host %s has no room for %s, which needs %s; %s downloaded before the disk filled. Free space with `%s`, then pull again: %v",
		ErrNoSpace, e.Host, e.Image, need, output.HumanBytes(e.Downloaded), e.Prune, e.Err)
}

func (e *NoSpaceError) Unwrap() []error { return []error{ErrNoSpace, e.Err} }

// isNoSpace reports whether the daemon's error is a full disk (dockerd
// passes the write error's text on, in the stream or as the HTTP error).
func isNoSpace(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "no space left on device")
}

// PruneCommand is the command a NoSpaceError offers to free space on
// env's hosts for images of repository (the registry path, e.g. "team/app"),
// as the caller's user would type it (WithPruneCommand). The default is
// "prewarm prune --env ENV --repo REPOSITORY".
type PruneCommand func(env, repository string) string

func defaultPruneCommand(env, repository string) string {
	return "prewarm prune --env " + env + " --repo " + repository
}
