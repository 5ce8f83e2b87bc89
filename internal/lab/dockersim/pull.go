package dockersim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
)

// pullRequest is one pull: ref is tagged or canonical.
type pullRequest struct {
	ref      reference.Named
	platform *platform
	auth     registry.AuthConfig
	// preload records layers from the manifest without fetching their
	// blobs or spending extract time (Host.Preload: lab setup).
	preload bool
}

// pull fetches req.ref from its registry into the host's store, reporting
// progress on out in dockerd's classic order. Errors are *apiError when they
// happen before the first message (the caller answers an HTTP status) and
// plain errors after (the caller writes an errorDetail line).
func (h *Host) pull(ctx context.Context, req pullRequest, out *stream) error {
	if !req.preload {
		h.countPull()
	}
	ref := req.ref
	domain := reference.Domain(ref)
	repo := reference.Path(ref)
	rc := newRegClient(domain, h.client, req.auth, func(n int64) { h.countBytes(domain, n) })

	if err := rc.ping(ctx); err != nil {
		return errorf(http.StatusInternalServerError, "%v", err)
	}
	canonical, isDigest := ref.(reference.Canonical)
	pullingID := ""
	if isDigest {
		pullingID = ref.String()
		h.store.mu.Lock()
		e, ok := h.store.refs[refKey(ref).String()]
		present := ok && h.store.images[e.id] != nil
		h.store.mu.Unlock()
		if present {
			out.message(pullingID, "Pulling from "+reference.Path(ref))
			out.message("", "Digest: "+canonical.Digest().String())
			out.message("", "Status: Image is up to date for "+reference.FamiliarString(ref))
			return nil
		}
	} else {
		pullingID = ref.(reference.Tagged).Tag()
	}

	top, err := h.resolveManifest(ctx, rc, repo, ref)
	if err != nil {
		return translatePullError(err, ref)
	}
	out.message(pullingID, "Pulling from "+reference.Path(ref))

	img, err := h.pullManifest(ctx, rc, repo, top, req, out)
	if err != nil {
		return err
	}

	h.store.mu.Lock()
	changed := h.store.addRefLocked(ref, img)
	if !isDigest {
		dref, _ := reference.WithDigest(reference.TrimNamed(ref), digest.Digest(top.digest))
		if _, exists := h.store.refs[dref.String()]; !exists {
			h.store.addRefLocked(dref, img)
		}
	}
	h.store.mu.Unlock()

	out.message("", "Digest: "+top.digest)
	if changed {
		out.message("", "Status: Downloaded newer image for "+reference.FamiliarString(ref))
	} else {
		out.message("", "Status: Image is up to date for "+reference.FamiliarString(ref))
	}
	return nil
}

// resolveManifest finds the manifest (or index) ref names: HEAD by tag and
// reuse a known body, else GET by digest, like dockerd 20.10.
func (h *Host) resolveManifest(ctx context.Context, rc *regClient, repo string, ref reference.Named) (fetchedManifest, error) {
	if c, ok := ref.(reference.Canonical); ok {
		return h.getManifest(ctx, rc, repo, c.Digest().String())
	}
	tag := ref.(reference.Tagged).Tag()
	dgst, err := rc.headManifest(ctx, repo, tag)
	var re *registryError
	switch {
	case errors.As(err, &re):
		return rc.getManifest(ctx, repo, tag) // the GET carries the error body
	case err != nil:
		return fetchedManifest{}, err
	case dgst == "":
		return h.getManifest(ctx, rc, repo, tag)
	}
	return h.getManifest(ctx, rc, repo, dgst)
}

// getManifest fetches by reference, reusing a cached body for a digest.
func (h *Host) getManifest(ctx context.Context, rc *regClient, repo, ref string) (fetchedManifest, error) {
	h.store.mu.Lock()
	m, ok := h.store.manifests[ref]
	h.store.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := rc.getManifest(ctx, repo, ref)
	if err != nil {
		return m, err
	}
	h.store.mu.Lock()
	h.store.manifests[m.digest] = m
	h.store.mu.Unlock()
	return m, nil
}

// pullManifest pulls the image top names (picking a platform from an index)
// and returns its ID.
func (h *Host) pullManifest(ctx context.Context, rc *regClient, repo string, top fetchedManifest, req pullRequest, out *stream) (string, error) {
	doc, err := parseManifest(top)
	if err != nil {
		return "", err
	}
	p := h.cfg.platform
	if req.platform != nil {
		p = *req.platform
	}
	if doc.isIndex() {
		d, ok := doc.pick(p, h.cfg.osVersion)
		if !ok {
			want := p.String()
			if p.OS == "windows" && h.cfg.osVersion != "" {
				want += " " + windowsBuild(h.cfg.osVersion)
			}
			return "", fmt.Errorf("no matching manifest for %s in the manifest list entries", want)
		}
		child, err := h.getManifest(ctx, rc, repo, d.Digest)
		if err != nil {
			return "", err
		}
		if doc, err = parseManifest(child); err != nil {
			return "", err
		}
		if doc.isIndex() {
			return "", fmt.Errorf("manifest %s: nested index", d.Digest)
		}
	}
	id := doc.Config.Digest
	h.store.mu.Lock()
	_, have := h.store.images[id]
	h.store.mu.Unlock()
	if have {
		if h.failMid.Load() {
			return "", io.ErrUnexpectedEOF
		}
		return id, nil
	}

	cfgBody, err := h.fetchSmallBlob(ctx, rc, repo, doc.Config)
	if err != nil {
		return "", err
	}
	var cfg imageConfig
	if err := json.Unmarshal(cfgBody, &cfg); err != nil {
		return "", fmt.Errorf("image config %s: %w", id, err)
	}
	if cfg.OS != "" && p.OS != "" && cfg.OS != p.OS { // dockerd refuses an image of another OS (a linux image on Windows)
		return "", fmt.Errorf("image operating system %q cannot be used on this platform", cfg.OS)
	}
	if len(cfg.RootFS.DiffIDs) != len(doc.Layers) {
		return "", fmt.Errorf("image config %s: %d diff IDs for %d layers", id, len(cfg.RootFS.DiffIDs), len(doc.Layers))
	}
	chain := chainIDs(cfg.RootFS.DiffIDs)
	if err := h.pullLayers(ctx, rc, repo, doc.Layers, cfg.RootFS.DiffIDs, chain, req.preload, out); err != nil {
		return "", err
	}

	rec := &imageRec{id: id, config: cfgBody, cfg: cfg, chain: chain}
	if cfg.Created != nil {
		rec.created = *cfg.Created
	}
	h.store.mu.Lock()
	if _, ok := h.store.images[id]; !ok {
		h.store.images[id] = rec
	}
	h.store.mu.Unlock()
	return id, nil
}

func (h *Host) fetchSmallBlob(ctx context.Context, rc *regClient, repo string, d descriptor) ([]byte, error) {
	body, err := rc.openBlob(ctx, repo, d.Digest)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 16<<20))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	if "sha256:"+hex.EncodeToString(sum[:]) != d.Digest {
		return nil, fmt.Errorf("image config verification failed for digest %s", d.Digest)
	}
	return b, nil
}

// translatePullError maps registry answers to dockerd's pull errors.
func translatePullError(err error, ref reference.Named) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var re *registryError
	if errors.As(err, &re) {
		switch re.code {
		case "MANIFEST_UNKNOWN":
			return errorf(http.StatusNotFound, "manifest for %s not found: %v", reference.FamiliarString(ref), re)
		case "NAME_UNKNOWN":
			return errorf(http.StatusNotFound, "repository %s not found: %v", reference.FamiliarName(ref), re)
		case "DENIED":
			return errorf(http.StatusNotFound, "pull access denied for %s, repository does not exist or may require 'docker login': %s", reference.FamiliarName(ref), re.message)
		}
	}
	return errorf(http.StatusInternalServerError, "%v", err)
}
