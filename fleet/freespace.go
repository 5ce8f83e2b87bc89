package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/rancher"
)

// DiskSpace is what is known of a host's free space before pulling onto it
// (Target.Disk): today, what Rancher's agent last reported for a host
// reached through Rancher (rancher.Host.DiskFree). The Docker Engine API
// reports none.
type DiskSpace struct {
	// Free is an upper bound on the free bytes of the file system holding
	// the Docker data root.
	Free int64
	// Source names where Free comes from, for errors.
	Source string
}

// rancherDisk is h's DiskSpace, or nil when its agent reported none.
func rancherDisk(h *rancher.Host) *DiskSpace {
	free, ok := h.DiskFree()
	if !ok {
		return nil
	}
	return &DiskSpace{Free: free, Source: "Rancher's host info for " + h.ID + ", the agent's last report"}
}

// less is d with n bytes fewer free (what this run pulled onto the host
// since d was read); nil stays nil.
func (d *DiskSpace) less(n int64) *DiskSpace {
	if d == nil || n <= 0 {
		return d
	}
	return &DiskSpace{Free: d.Free - n, Source: d.Source + ", less the " + output.HumanBytes(n) + " pulled since"}
}

// noRoomError is a pull stopped because the layers the daemon announced
// outgrew the host's known free space.
type noRoomError struct {
	need int64
	disk DiskSpace
}

func (e *noRoomError) Error() string {
	return fmt.Sprintf("the daemon announced %s of layers to download, more than the at most %s free (from %s)",
		output.HumanBytes(e.need), output.HumanBytes(max(e.disk.Free, 0)), e.disk.Source)
}

// roomGuard stops a pull as soon as the layer sizes the daemon announced
// (the "need" a NoSpaceError reports) exceed the host's known free space,
// instead of letting the disk fill: the sizes are compressed, so an image
// that needs more than that does not fit. With no known free space it does
// nothing.
type roomGuard struct {
	disk *DiskSpace
	stop context.CancelCauseFunc
}

// guardRoom returns the pull's context and its guard; call done when the
// pull ends.
func guardRoom(ctx context.Context, disk *DiskSpace) (context.Context, *roomGuard) {
	g := &roomGuard{disk: disk, stop: func(error) {}}
	if disk != nil {
		ctx, g.stop = context.WithCancelCause(ctx)
	}
	return ctx, g
}

// observe takes the announced total so far.
func (g *roomGuard) observe(total int64) {
	if g.disk != nil && total > g.disk.Free {
		g.stop(&noRoomError{need: total, disk: *g.disk})
	}
}

// stopped returns the *noRoomError when the guard stopped the pull of ctx.
func (g *roomGuard) stopped(ctx context.Context) error {
	var nr *noRoomError
	if errors.As(context.Cause(ctx), &nr) {
		return nr
	}
	return nil
}

func (g *roomGuard) done() { g.stop(nil) }
