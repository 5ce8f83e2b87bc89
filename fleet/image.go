package fleet

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"

	"github.com/drover-dev/drover/inventory"
)

// Want is one image a host should hold.
type Want struct {
	// Name is the lock's short name, or the reference for images not in a lock.
	Name string `json:"name"`
	// Pull is the reference the host pulls: <registry>/<repository>@<digest>.
	Pull string `json:"pull"`
	// Ref is the deploy reference the image is tagged with and inspected
	// by: <registry>/<repository>:<tag> (equal to Pull when there is no tag).
	Ref string `json:"ref"`
	// Repository is the path inside the registry, e.g. "team/app".
	Repository string `json:"repository"`
	// Digest is the manifest digest expected in RepoDigests ("" = any).
	Digest string `json:"digest,omitempty"`
	// Entries are the platforms the image's index offers (the lock's
	// manifests); each host pulls the one it runs (Choose). Nil for a
	// single-platform image or one known only by reference.
	Entries []inventory.LockManifest `json:"-"`
}

// WantsFor lists what host should hold for lock: each image by digest from
// the host's region registry, tagged with the deploy reference.
func WantsFor(host Target, lock *inventory.Lock) []Want {
	if lock == nil {
		return nil
	}
	out := make([]Want, 0, len(lock.Images))
	for _, im := range lock.Images {
		out = append(out, LockWant(host.Registry, im))
	}
	return out
}

// LockWant is one lock image as served by registry (a region's address).
func LockWant(registry string, im inventory.LockImage) Want {
	w := Want{
		Name:       im.Name,
		Pull:       registry + "/" + im.Repository + "@" + im.Digest,
		Repository: im.Repository,
		Digest:     im.Digest,
		Entries:    im.Entries(),
	}
	w.Ref = w.Pull
	if im.Tag != "" {
		w.Ref = registry + "/" + im.Repository + ":" + im.Tag
	}
	return w
}

// RefWant is an image known only by reference (e.g. a Rancher service's
// imageUuid): pulled and inspected as given, any digest accepted unless ref
// carries one.
func RefWant(ref string) (Want, error) {
	ref = strings.TrimPrefix(ref, "docker:")
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return Want{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	w := Want{Name: ref, Pull: ref, Ref: ref, Repository: reference.Path(named)}
	if d, ok := named.(reference.Digested); ok {
		w.Digest = d.Digest().String()
	}
	return w, nil
}

// withRegistry is w pulled from another registry (the fallback source),
// keeping the deploy reference.
func (w Want) withRegistry(registry string) Want {
	w.Pull = registry + "/" + w.Repository + "@" + w.Digest
	return w
}

// short is the image as an operator names it: the last path element of its
// deploy reference with its tag ("app:1.4").
func (w Want) short() string {
	if i := strings.LastIndex(w.Ref, "/"); i >= 0 {
		return w.Ref[i+1:]
	}
	return w.Ref
}

// registryOf returns the registry host of ref ("docker.io" for short names).
func registryOf(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	return reference.Domain(named)
}

// hasDigest reports whether repoDigests holds repository@digest from any
// registry. The digest names the content, so the registry it came from
// does not matter; the repository path must match.
func hasDigest(repoDigests []string, repository, digest string) bool {
	for _, rd := range repoDigests {
		named, err := reference.ParseNormalizedNamed(rd)
		if err != nil {
			continue
		}
		d, ok := named.(reference.Digested)
		if ok && d.Digest().String() == digest && reference.Path(named) == repository {
			return true
		}
	}
	return false
}
