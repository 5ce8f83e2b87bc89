package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/drover-dev/drover/inventory"
)

// ForeignLayer is one non-distributable (foreign) layer of a locked image:
// a host whose region does not hold it downloads it from URLs.
type ForeignLayer struct {
	Image  string   `json:"image"`
	Digest string   `json:"digest"`
	Size   int64    `json:"size"`
	URLs   []string `json:"urls"`
}

// ForeignLayers lists the foreign layers of every image of lock (each once
// per image, in manifest order; every platform of an index), reading
// manifests from source and no blob. It returns what it found with the
// errors of the images it could not read.
func ForeignLayers(ctx context.Context, lock *inventory.Lock, source inventory.Registry, opts ...Option) ([]ForeignLayer, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	defer o.done()
	var pull []string
	for _, li := range lock.Images {
		pull = append(pull, scope(li.Repository, transport.PullScope))
	}
	src, err := newClient(ctx, "source", source, dedupe(pull), o)
	if err != nil {
		return nil, err
	}
	var out []ForeignLayer
	var errs []error
	for _, li := range lock.Images {
		im, err := loadImage(ctx, src, li)
		if err != nil {
			errs = append(errs, fmt.Errorf("foreign layers of %s: %w", li.Name, err))
			continue
		}
		seen := map[string]bool{}
		for _, m := range im.manifests {
			for _, b := range im.blobs[m.Digest] {
				if b.foreign() && !seen[b.Digest] {
					seen[b.Digest] = true
					out = append(out, ForeignLayer{Image: li.Name, Digest: b.Digest, Size: b.Size, URLs: b.URLs})
				}
			}
		}
	}
	return out, errors.Join(errs...)
}

// foreignPresent reports whether region reg, which holds im's manifest,
// also holds im's foreign layers: it may have received the image before
// its foreignLayers was set to mirror.
func (r *run) foreignPresent(ctx context.Context, im *image, reg string) (bool, error) {
	c := r.client(reg)
	for _, m := range im.manifests {
		for _, b := range im.blobs[m.Digest] {
			if !b.foreign() {
				continue
			}
			ok, err := c.headBlob(ctx, im.lock.Repository, b.Digest)
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}
