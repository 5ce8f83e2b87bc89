package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
	// Platforms are the index entries that hold the layer ("windows/amd64
	// 10.0.17763.1234"): only hosts that pull one of them download it.
	// Empty for an image that is not an index.
	Platforms []string `json:"platforms,omitempty"`
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
		platform := map[string]string{} // entry digest -> its platform
		for _, e := range li.Entries() {
			if e.Digest != "" {
				platform[e.Digest] = e.String()
			}
		}
		at := map[string]int{} // layer digest -> index in out
		for _, m := range im.manifests {
			for _, b := range im.blobs[m.Digest] {
				if !b.foreign() {
					continue
				}
				i, ok := at[b.Digest]
				if !ok {
					i = len(out)
					at[b.Digest] = i
					out = append(out, ForeignLayer{Image: li.Name, Digest: b.Digest, Size: b.Size, URLs: b.URLs})
				}
				if p := platform[m.Digest]; p != "" && !slices.Contains(out[i].Platforms, p) {
					out[i].Platforms = append(out[i].Platforms, p)
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
