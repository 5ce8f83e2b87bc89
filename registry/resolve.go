package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/drover-dev/drover/inventory"
)

// Resolve resolves every image of rel at source, once: a tag becomes the
// digest it points at now, a digest reference is checked to exist. With
// WithPlatforms an index is narrowed and the lock records the narrowed
// digest and the platforms kept. With WithPrevious, a tag that resolves to a
// different digest than the previous lock holds is a *TagMovedError (all
// such images are reported together) unless WithRelock is given.
//
// Options used: WithPlatforms, WithPrevious, WithRelock and the connection
// options. The caller writes the lock (inventory.WriteLock).
func Resolve(ctx context.Context, source inventory.Registry, rel *inventory.Release, opts ...Option) (*inventory.Lock, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	defer o.done()
	if prev := o.previous; prev != nil && prev.Source != "" && prev.Source != source.Address && !o.relock {
		return nil, fmt.Errorf("%w: lock was resolved at %s, the inventory's source is %s: rerun with --relock", ErrSourceChanged, prev.Source, source.Address)
	}
	refs := make([]sourceRef, len(rel.Images))
	var scopes []string
	var errs []error
	seen := map[string]bool{}
	for i, ri := range rel.Images {
		if seen[ri.Name] {
			errs = append(errs, fmt.Errorf("image %s: listed twice", ri.Name))
		}
		seen[ri.Name] = true
		r, err := parseSourceRef(source.Address, ri.Ref)
		if err != nil {
			errs = append(errs, fmt.Errorf("image %s: %w", ri.Name, err))
			continue
		}
		refs[i] = r
		scopes = append(scopes, scope(r.repo, transport.PullScope))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	src, err := newClient(ctx, "source", source, dedupe(scopes), o)
	if err != nil {
		return nil, err
	}
	lock := &inventory.Lock{Version: 1, Created: time.Now().UTC(), Source: source.Address}
	for i, ri := range rel.Images {
		li, err := resolveOne(ctx, src, ri, refs[i], o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lock.Images = append(lock.Images, *li)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if prev := o.previous; prev != nil && prev.Source == lock.Source && slices.EqualFunc(prev.Images, lock.Images, sameImage) {
		lock.Created = prev.Created // nothing changed: the lock file stays byte for byte
	}
	return lock, nil
}

func sameImage(a, b inventory.LockImage) bool {
	return a.Name == b.Name && a.Ref == b.Ref && a.Repository == b.Repository && a.Tag == b.Tag &&
		a.Digest == b.Digest && a.MediaType == b.MediaType && slices.Equal(a.Platforms, b.Platforms) &&
		slices.Equal(a.Manifests, b.Manifests)
}

func resolveOne(ctx context.Context, src *client, ri inventory.ReleaseImage, r sourceRef, o *options) (*inventory.LockImage, error) {
	m, err := src.getManifest(ctx, r.repo, r.ref())
	if err != nil {
		return nil, fmt.Errorf("resolve %s (%s): %w", ri.Name, ri.Ref, err)
	}
	li := &inventory.LockImage{Name: ri.Name, Ref: ri.Ref, Repository: r.repo, Tag: r.tag, MediaType: m.MediaType}
	if m.isIndex() {
		li.Platforms = platformsOf(m)
		if len(o.platforms) > 0 {
			if m, li.Platforms, err = narrow(m, o.platforms); err != nil {
				return nil, fmt.Errorf("resolve %s (%s): %w", ri.Name, ri.Ref, err)
			}
			if r.digest != "" && m.Digest != r.digest {
				return nil, fmt.Errorf("resolve %s (%s): a digest reference cannot be narrowed to %v", ri.Name, ri.Ref, platformNames(o.platforms))
			}
		}
	}
	if m.isIndex() {
		li.Manifests = manifestsOf(m)
	}
	li.Digest = m.Digest
	if o.previous == nil || r.tag == "" {
		return li, nil
	}
	for _, p := range o.previous.Images {
		if p.Name == ri.Name && p.Ref == ri.Ref && p.Digest != li.Digest && !o.relock {
			return nil, &TagMovedError{Image: ri.Name, Ref: ri.Ref, Locked: p.Digest, Current: li.Digest}
		}
	}
	return li, nil
}

// sourceRef is a release reference relative to the source registry.
type sourceRef struct {
	repo, tag, digest string
}

func (r sourceRef) ref() string {
	if r.digest != "" {
		return r.digest
	}
	return r.tag
}

// parseSourceRef accepts "team/app:1.4", "team/app@sha256:..." or the same
// prefixed with the source address; another registry is an error.
func parseSourceRef(source, ref string) (sourceRef, error) {
	rest := ref
	if first, after, ok := strings.Cut(ref, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if first != source {
			return sourceRef{}, fmt.Errorf("reference %q: registry %s is not the source %s", ref, first, source)
		}
		rest = after
	}
	parsed, err := name.ParseReference(source+"/"+rest, name.StrictValidation)
	if err != nil {
		return sourceRef{}, fmt.Errorf("reference %q: %w", ref, err)
	}
	r := sourceRef{repo: parsed.Context().RepositoryStr()}
	switch p := parsed.(type) {
	case name.Digest:
		r.digest = p.DigestStr()
	case name.Tag:
		r.tag = p.TagStr()
	}
	return r, nil
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// scope is a token scope for repo ("repository:team/app:push,pull").
func scope(repo, actions string) string { return "repository:" + repo + ":" + actions }
