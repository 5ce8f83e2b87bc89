package fleet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/inventory"
)

// PruneReport is what Prune removed (or, on a dry run, would remove) on
// one host, and what it kept and why.
type PruneReport struct {
	Host   string `json:"host"`
	DryRun bool   `json:"dryRun"`
	// Removed lists images removed (or that would be); an image that also
	// carries references outside the pruned repositories only loses ours.
	Removed []PrunedImage `json:"removed"`
	Kept    []PrunedImage `json:"kept"`
	// BytesFreed counts images deleted outright (their Size; layers shared
	// with kept images make this an upper bound).
	BytesFreed int64 `json:"bytesFreed"`
}

// PrunedImage is one image of a pruned repository.
type PrunedImage struct {
	ID         string    `json:"id"`
	Repository string    `json:"repository"`
	Refs       []string  `json:"refs"`
	Created    time.Time `json:"created"`
	Size       int64     `json:"size"`
	// Reason says why an image was kept: lock, current, previous, newer,
	// in use by container X, or shared with another repository.
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Prune removes older images of repos (repository paths such as
// "team/app", from any registry) on host, keeping per repository: the
// current image (the lock's, else the newest), the keep newest before it
// (by Created), anything newer than the current, every image a container
// uses (running or stopped: a stopped container is what a Rancher rollback
// restarts) and every image the lock names. dryRun lists what would go and
// changes nothing. Images are removed by untagging their references
// without force, so the daemon's own in-use check stays in force.
//
// With WithDeployed, "current", "newer" and "previous" follow what was
// deployed (the lock, then the services' current images, then the images
// their last upgrade would roll back to), not creation time (reproducible
// builds all say 1970); the rollback images are kept unless
// WithIncludeRollback.
func Prune(ctx context.Context, host Target, repos []string, keep int, lock *inventory.Lock, dryRun bool, opts ...Option) (*PruneReport, error) {
	if keep < 0 {
		return nil, fmt.Errorf("prune: keep %d: want >= 0", keep)
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	eng, err := o.dial(ctx, host)
	if err != nil {
		if errors.Is(err, ErrUnreachable) { // Rancher says it is not active: already says so
			return nil, fmt.Errorf("prune on %s: %w", host.Name, err)
		}
		return nil, fmt.Errorf("prune on %s: %w: %w", host.Name, ErrUnreachable, err)
	}
	defer eng.Close()
	cctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cs, err := eng.ContainerList(cctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("prune on %s: list containers: %w", host.Name, relayNamed(err))
	}
	used := map[string]string{}
	for _, c := range cs.Items {
		name := strings.TrimPrefix(strings.Join(c.Names, ","), "/")
		used[c.ImageID] = name
	}
	ims, err := eng.ImageList(cctx, client.ImageListOptions{})
	if err != nil {
		return nil, fmt.Errorf("prune on %s: list images: %w", host.Name, relayNamed(err))
	}

	rep := &PruneReport{Host: host.Name, DryRun: dryRun}
	plan := planPrune(ims.Items, repos, keep, lock, used, o.deployed, o.includeRollback)
	var errs []error
	for _, p := range plan {
		if p.Reason != "" {
			rep.Kept = append(rep.Kept, p.PrunedImage)
			continue
		}
		if !dryRun {
			if err := removeRefs(ctx, eng, o.timeout, p.Refs); err != nil {
				p.Error = err.Error()
				errs = append(errs, fmt.Errorf("prune %s (%s) on %s: %w", p.ID, p.Repository, host.Name, err))
				rep.Removed = append(rep.Removed, p.PrunedImage)
				continue
			}
		}
		rep.Removed = append(rep.Removed, p.PrunedImage)
		if p.whole {
			rep.BytesFreed += p.Size
		}
	}
	return rep, errors.Join(errs...)
}

type pruneItem struct {
	PrunedImage
	whole bool // every reference is in a pruned repository: removing them deletes the image
}

// planPrune decides per image; images come back grouped by repository,
// newest first.
func planPrune(images []image.Summary, repos []string, keep int, lock *inventory.Lock, used map[string]string, dep *Deployed, includeRollback bool) []pruneItem {
	// rank orders what was deployed, newest first: the lock, the services'
	// current images, their rollback images. Images deployed nowhere come
	// after, by creation time.
	// Without WithDeployed nothing is ranked: creation time decides, as
	// before.
	var order []func(refs []string) bool
	if lock != nil && dep != nil {
		for _, im := range lock.Images {
			order = append(order, func(refs []string) bool { return hasDigest(refs, im.Repository, im.Digest) })
		}
	}
	var rollback []string
	if dep != nil {
		for _, r := range append(slices.Clone(dep.Current), dep.Previous...) {
			order = append(order, func(refs []string) bool { return refMatches(refs, r) })
		}
		rollback = dep.Previous
	}
	rank := func(refs []string) int {
		for k, match := range order {
			if match(refs) {
				return k
			}
		}
		return len(order)
	}
	byRepo := map[string][]pruneItem{}
	for _, im := range images {
		refs := append(slices.Clone(im.RepoTags), im.RepoDigests...)
		mine := map[string][]string{}
		foreign := false
		for _, r := range refs {
			named, err := reference.ParseNormalizedNamed(r)
			if err != nil { // "<none>:<none>"
				continue
			}
			if p := reference.Path(named); slices.Contains(repos, p) {
				mine[p] = append(mine[p], r)
			} else {
				foreign = true
			}
		}
		for repo, rs := range mine {
			sort.Slice(rs, func(i, j int) bool { return strings.Contains(rs[j], "@") && !strings.Contains(rs[i], "@") })
			it := pruneItem{PrunedImage: PrunedImage{ID: im.ID, Repository: repo, Refs: rs, Created: time.Unix(im.Created, 0).UTC(), Size: im.Size}, whole: !foreign && len(mine) == 1}
			if !it.whole {
				it.Reason = "shared with another repository"
			}
			byRepo[repo] = append(byRepo[repo], it)
		}
	}
	var out []pruneItem
	for _, repo := range slices.Sorted(maps.Keys(byRepo)) {
		items := byRepo[repo]
		ranks := map[string]int{}
		for _, it := range items {
			ranks[it.ID] = rank(it.Refs)
		}
		sort.SliceStable(items, func(i, j int) bool {
			if ri, rj := ranks[items[i].ID], ranks[items[j].ID]; ri != rj {
				return ri < rj
			}
			if !items[i].Created.Equal(items[j].Created) {
				return items[i].Created.After(items[j].Created)
			}
			return items[i].ID < items[j].ID
		})
		cur := -1
		for i, it := range items {
			if lockNames(lock, repo, it.Refs) {
				items[i].Reason = "lock"
				if cur < 0 {
					cur = i
				}
			}
		}
		if cur < 0 && len(items) > 0 {
			cur = 0
			if items[0].Reason == "" {
				items[0].Reason = "current"
			}
		}
		prev := 0
		for i := range items {
			it := &items[i]
			switch {
			case i < cur && it.Reason == "":
				it.Reason = "newer than current"
			case i > cur && prev < keep:
				prev++
				if it.Reason == "" {
					it.Reason = "previous"
				}
			}
			if c, ok := used[it.ID]; ok && (it.Reason == "" || it.Reason == "previous") {
				it.Reason = "in use by container " + c
			}
			if (it.Reason == "" || it.Reason == "previous") && !includeRollback && slices.ContainsFunc(rollback, func(r string) bool { return refMatches(it.Refs, r) }) {
				it.Reason = "rollback image (kept; --include-rollback-image removes it)"
			}
		}
		out = append(out, items...)
	}
	return out
}

// refMatches reports whether ref (an image reference as Rancher's launch
// config holds it) names one of refs.
func refMatches(refs []string, ref string) bool {
	want, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return false
	}
	for _, r := range refs {
		if have, err := reference.ParseNormalizedNamed(r); err == nil && have.String() == want.String() {
			return true
		}
	}
	return false
}

func lockNames(lock *inventory.Lock, repo string, refs []string) bool {
	if lock == nil {
		return false
	}
	for _, im := range lock.Images {
		if im.Repository == repo && hasDigest(refs, repo, im.Digest) {
			return true
		}
	}
	return false
}

// removeRefs untags every reference (tags first, then digests); the last
// one deletes the image. No force: the daemon refuses images in use.
func removeRefs(ctx context.Context, eng Engine, timeout time.Duration, refs []string) error {
	for _, r := range refs {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		_, err := eng.ImageRemove(cctx, r, client.ImageRemoveOptions{PruneChildren: true})
		cancel()
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("remove %s: %w", r, relayNamed(err))
		}
	}
	return nil
}
