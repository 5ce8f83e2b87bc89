package fleet

import (
	"context"
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
	// NothingToPrune is set when a dry run of Prune on the host
	// (WithPruneCheck) would remove nothing: it holds only images prune
	// keeps (the current one, those kept for rollback, those in use).
	// PruneDryRun is that dry run's command.
	NothingToPrune bool
	PruneDryRun    string
	Err            error
}

func (e *NoSpaceError) Error() string {
	if e.NothingToPrune {
		return e.growDisk()
	}
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

// growDisk is the error of a host where prune would free nothing: only
// a bigger disk (or removing what prune keeps) makes room.
func (e *NoSpaceError) growDisk() string {
	need := "more space than it has (the daemon announced no layer sizes)"
	if e.Need > 0 {
		need = fmt.Sprintf("at least %d bytes (%s, compressed; more once extracted)", e.Need, output.HumanBytes(e.Need))
	}
	free := fmt.Sprintf("%s downloaded before the disk filled", output.HumanBytes(e.Downloaded))
	if e.Free > 0 {
		free = fmt.Sprintf("it has %d bytes free, so grow its disk by at least %d bytes", e.Free, max(e.Need-e.Free, 0))
	}
	return fmt.Sprintf("%v: host %s (environment %s) has no room for %s, which needs %s; %s. Nothing can be pruned safely there: "+
		"it holds only images prune keeps (the current one, those kept for rollback, those in use; see `%s`). Grow the host's disk, then pull again: %v",
		ErrNoSpace, e.Host, e.Env, e.Image, need, free, e.PruneDryRun, e.Err)
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

// PruneCheck runs, as a dry run on host, the prune that PruneCommand
// offers for repository (see WithPruneCheck), and returns its report and
// the dry run's command as the caller's user would type it.
type PruneCheck func(ctx context.Context, host Target, repository string) (rep *PruneReport, command string, err error)

// checkPrune marks e NothingToPrune when the host's dry-run prune would
// free nothing. A check that fails leaves the prune offered.
func (o *options) checkPrune(ctx context.Context, t Target, repository string, e *NoSpaceError) *NoSpaceError {
	if o.pruneCheck == nil || ctx.Err() != nil {
		return e
	}
	rep, cmd, err := o.pruneCheck(ctx, t, repository)
	if err != nil {
		o.logger.Debug("cannot tell what prune would free", "host", t.Name, "err", err)
		return e
	}
	if rep != nil && rep.BytesFreed == 0 {
		e.NothingToPrune, e.PruneDryRun = true, cmd
	}
	return e
}

func defaultPruneCommand(env, repository string) string {
	return "prewarm prune --env " + env + " --repo " + repository
}
