package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drover-dev/drover/inventory"
)

// blob is one config or layer blob a manifest refers to.
type blob struct {
	Digest    string
	Size      int64
	MediaType string
	URLs      []string
}

// foreign reports a non-distributable layer (left as a reference by default).
func (b blob) foreign() bool { return !types.MediaType(b.MediaType).IsDistributable() }

// image is one locked image as the source holds it: its manifests in push
// order (children before the index; the last is the top one) and the blobs
// each image manifest needs.
type image struct {
	lock      inventory.LockImage
	manifests []*manifest
	blobs     map[string][]blob // manifest digest -> config + layers
}

func (m *manifest) isIndex() bool { return types.MediaType(m.MediaType).IsIndex() }

func (im *image) root() *manifest { return im.manifests[len(im.manifests)-1] }

func sniffMediaType(raw []byte) string {
	var doc struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	_ = json.Unmarshal(raw, &doc)
	switch {
	case doc.MediaType != "":
		return doc.MediaType
	case doc.Manifests != nil:
		return string(types.OCIImageIndex)
	default:
		return string(types.OCIManifestSchema1)
	}
}

// loadImage fetches li's manifests from the source. A narrowed index does
// not exist at the source: it is rebuilt from the tag's index and must hash
// to the locked digest.
func loadImage(ctx context.Context, src *client, li inventory.LockImage) (*image, error) {
	im := &image{lock: li, blobs: map[string][]blob{}}
	root, err := src.getManifest(ctx, li.Repository, li.Digest)
	var herr *HTTPError
	if errors.As(err, &herr) && herr.Status == http.StatusNotFound && li.Tag != "" && len(li.Platforms) > 0 {
		root, err = rebuildNarrowed(ctx, src, li)
	}
	if err != nil {
		return nil, fmt.Errorf("source manifest %s@%s: %w", li.Repository, li.Digest, err)
	}
	if err := im.walk(ctx, src, root, 0); err != nil {
		return nil, err
	}
	return im, nil
}

func rebuildNarrowed(ctx context.Context, src *client, li inventory.LockImage) (*manifest, error) {
	var want []v1.Platform
	for _, s := range li.Platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return nil, fmt.Errorf("lock platform %q: %w", s, err)
		}
		want = append(want, *p)
	}
	m, err := src.getManifest(ctx, li.Repository, li.Tag)
	if err != nil {
		return nil, err
	}
	if m.isIndex() {
		if m, _, err = narrow(m, want); err != nil {
			return nil, err
		}
	}
	if m.Digest != li.Digest {
		return nil, &TagMovedError{Image: li.Name, Ref: li.Ref, Locked: li.Digest, Current: m.Digest}
	}
	return m, nil
}

func (im *image) walk(ctx context.Context, src *client, m *manifest, depth int) error {
	if m.isIndex() {
		if depth > 1 {
			return fmt.Errorf("manifest %s@%s: indexes nested deeper than two levels", im.lock.Repository, m.Digest)
		}
		var idx v1.IndexManifest
		if err := json.Unmarshal(m.Raw, &idx); err != nil {
			return fmt.Errorf("index %s@%s: %w", im.lock.Repository, m.Digest, err)
		}
		for _, d := range idx.Manifests {
			child, err := src.getManifest(ctx, im.lock.Repository, d.Digest.String())
			if err != nil {
				return fmt.Errorf("source manifest %s@%s: %w", im.lock.Repository, d.Digest, err)
			}
			if err := im.walk(ctx, src, child, depth+1); err != nil {
				return err
			}
		}
	} else {
		var mf v1.Manifest
		if err := json.Unmarshal(m.Raw, &mf); err != nil {
			return fmt.Errorf("manifest %s@%s: %w", im.lock.Repository, m.Digest, err)
		}
		bs := []blob{{Digest: mf.Config.Digest.String(), Size: mf.Config.Size, MediaType: string(mf.Config.MediaType)}}
		for _, l := range mf.Layers {
			bs = append(bs, blob{Digest: l.Digest.String(), Size: l.Size, MediaType: string(l.MediaType), URLs: l.URLs})
		}
		for _, b := range bs {
			if b.Size < 0 || b.Size > maxBlobSize {
				return fmt.Errorf("manifest %s@%s: blob %s claims %d bytes; want 0 to %d (a manifest's sizes size the mirror's buffers)", im.lock.Repository, m.Digest, b.Digest, b.Size, int64(maxBlobSize))
			}
		}
		im.blobs[m.Digest] = bs
	}
	for _, have := range im.manifests {
		if have.Digest == m.Digest {
			return nil
		}
	}
	im.manifests = append(im.manifests, m)
	return nil
}

// maxBlobSize bounds a blob's size as a manifest states it: 256 GiB, far
// above any image layer (Windows bases are a few GB), and low enough that
// the ranged read's bookkeeping for it (a part per 8 MiB) stays small.
const maxBlobSize = 256 << 30

// narrow keeps the index entries matching any of want. It returns m itself
// when every entry is kept, so the digest changes only when the index does.
func narrow(m *manifest, want []v1.Platform) (*manifest, []string, error) {
	var idx v1.IndexManifest
	if err := json.Unmarshal(m.Raw, &idx); err != nil {
		return nil, nil, fmt.Errorf("index %s: %w", m.Digest, err)
	}
	var kept []v1.Descriptor
	var names []string
	for _, d := range idx.Manifests {
		if d.Platform == nil {
			continue
		}
		for _, w := range want {
			if satisfies(*d.Platform, w) {
				kept = append(kept, d)
				names = append(names, d.Platform.String())
				break
			}
		}
	}
	if len(kept) == 0 {
		return nil, nil, fmt.Errorf("index %s: no entry for platforms %v", m.Digest, platformNames(want))
	}
	if len(kept) == len(idx.Manifests) {
		return m, names, nil
	}
	idx.Manifests = kept
	raw, err := json.Marshal(idx)
	if err != nil {
		return nil, nil, err
	}
	return &manifest{Digest: digestOf(raw), MediaType: m.MediaType, Raw: raw}, names, nil
}

// satisfies is have.Satisfies(want), except that a Windows build
// (want's os.version of major.minor.build, 10.0.17763, as a host reports
// it) matches every revision of that build (10.0.17763.6054).
func satisfies(have, want v1.Platform) bool {
	if v := want.OSVersion; strings.Count(v, ".") == 2 && strings.HasPrefix(have.OSVersion, v+".") {
		want.OSVersion = have.OSVersion
	}
	return have.Satisfies(want)
}

// platformsOf lists an index's platforms ("os/arch[/variant]").
func platformsOf(m *manifest) []string {
	var idx v1.IndexManifest
	if json.Unmarshal(m.Raw, &idx) != nil {
		return nil
	}
	var out []string
	for _, d := range idx.Manifests {
		if d.Platform != nil {
			out = append(out, d.Platform.String())
		}
	}
	return out
}

func platformNames(ps []v1.Platform) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
