package prewarm

import (
	"context"
	"errors"
	"io/fs"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

// Images names what mirror and plan work on: the images of a release file
// and image references (source references such as team/app:1.4), or, with
// neither, the lock at LockFile as it is.
type Images struct {
	Release  string
	Refs     []string
	LockFile string
}

// Resolve is the lock mirror and plan work on: im resolved to digests at
// the inventory's source (a tag that moved since the lock at im.LockFile
// is an error unless opts say registry.WithRelock), or that lock as it is
// when im names no images. It writes nothing. Errors carry their exit code
// (internal/cli): 2 for what the operator decides, 1 for a source that
// failed or lacks an image.
func Resolve(ctx context.Context, inv *inventory.Inventory, im Images, opts ...registry.Option) (*inventory.Lock, error) {
	if inv.Registries.Source.Address == "" || len(inv.Registries.Regions) == 0 {
		return nil, cli.Usage("%s: registries.source and at least one region are needed to mirror", inv.File)
	}
	prev, err := inventory.ReadLock(im.LockFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, cli.Usage("%w", err)
	}
	rel := &inventory.Release{Version: 1}
	if im.Release != "" {
		if rel, err = inventory.LoadRelease(im.Release); err != nil {
			return nil, cli.Usage("%w", err)
		}
	}
	for _, a := range im.Refs {
		rel.Images = append(rel.Images, inventory.ReleaseImage{Name: a, Ref: a})
	}
	if len(rel.Images) == 0 {
		if prev == nil {
			return nil, cli.Usage("no images: give -f release.yaml, IMAGE arguments or an existing --lock")
		}
		return prev, nil
	}
	lock, err := registry.Resolve(ctx, inv.Registries.Source, rel, append(opts, registry.WithPrevious(prev))...)
	if err != nil {
		return nil, resolveErr(err)
	}
	return lock, nil
}

// resolveErr is the exit status of a failed registry.Resolve: 2 for what
// the operator decides (a tag or the source moved since the lock, a bad
// option), 1 for a source registry that failed or lacks an image.
func resolveErr(err error) error {
	if errors.Is(err, registry.ErrTagMoved) || errors.Is(err, registry.ErrSourceChanged) || errors.Is(err, registry.ErrInvalidOption) {
		return cli.Usage("%w", err)
	}
	return cli.Failed(err)
}

// Mirror writes lock to lockFile, then copies it to every region of the
// inventory (registry.Mirror), moving only what is missing. A nil report
// means nothing was copied (a bad option: exit 2); otherwise the error
// joins the copies that failed, and rerunning resumes them.
func Mirror(ctx context.Context, inv *inventory.Inventory, lock *inventory.Lock, lockFile string, opts ...registry.Option) (*registry.Report, error) {
	if err := inventory.WriteLock(lockFile, lock); err != nil {
		return nil, cli.Failed(err)
	}
	rep, err := registry.Mirror(ctx, lock, inv.Registries.Source, inv.Registries.Regions, opts...)
	if rep == nil {
		return nil, cli.Usage("%w", err)
	}
	return rep, err
}
