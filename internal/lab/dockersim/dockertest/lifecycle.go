package dockertest

import (
	"slices"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

func testImageLifecycle(t *testing.T, target Target) {
	s := newSession(t, target)
	ctx := t.Context()
	reg := StartRegistry(t, false)
	repo := reg.Ref(s.prefix + "/app")
	deployRepo := reg.Ref(s.prefix + "/deploy")
	ref10, ref11, deploy := repo+":1.0", repo+":1.1", deployRepo+":live"
	img1 := RandomImage(t, 48<<10, 2)
	img2 := AddLayer(t, img1, 24<<10)
	reg.Push(t, s.prefix+"/app:1.0", img1)
	reg.Push(t, s.prefix+"/app:1.1", img2)
	d1, d2 := digestOf(t, img1), digestOf(t, img2)
	id1, id2 := configDigest(t, img1), configDigest(t, img2)
	s.cleanup("", ref10, ref11, deploy, repo+"@"+d1, repo+"@"+d2)

	// First pull: every layer downloads.
	fresh, order := freshLayers(t, img1, 0)
	checkStream(t, s.mustPull(ref10), wantStream{
		repo: remotePath(t, repo), pullingID: "1.0", fresh: fresh, order: order,
		digest: d1, status: "Downloaded newer image for " + ref10,
	})
	got := s.inspect(ref10)
	if got.ID != id1 {
		t.Errorf("inspect Id = %s, want the config digest %s", got.ID, id1)
	}
	if !slices.Equal(got.RepoTags, []string{ref10}) || !slices.Equal(got.RepoDigests, []string{repo + "@" + d1}) {
		t.Errorf("inspect RepoTags %q RepoDigests %q, want [%s] [%s@%s]", got.RepoTags, got.RepoDigests, ref10, repo, d1)
	}
	if got.RootFS.Type != "layers" || !slices.Equal(got.RootFS.Layers, diffIDs(t, img1)) {
		t.Errorf("inspect RootFS = %+v, want the config's diff IDs %q", got.RootFS, diffIDs(t, img1))
	}
	if got.Os != "linux" || got.Architecture != "amd64" || got.Size <= 0 {
		t.Errorf("inspect Os %q Architecture %q Size %d, want linux amd64 >0", got.Os, got.Architecture, got.Size)
	}

	// Second version: only the new layer moves.
	fresh, order = freshLayers(t, img2, 2)
	checkStream(t, s.mustPull(ref11), wantStream{
		repo: remotePath(t, repo), pullingID: "1.1", existing: layerIDs(t, img1), fresh: fresh, order: order,
		digest: d2, status: "Downloaded newer image for " + ref11,
	})

	// Pulling again changes nothing; by digest neither.
	if st := statuses(s.mustPull(ref10)); !slices.Equal(st, []string{"Pulling from " + remotePath(t, repo), "Digest: " + d1, "Status: Image is up to date for " + ref10}) {
		t.Errorf("re-pull statuses = %q", st)
	}
	byDigest := repo + "@" + d1
	msgs := s.mustPull(byDigest)
	if st := statuses(msgs); !slices.Equal(st, []string{"Pulling from " + remotePath(t, repo), "Digest: " + d1, "Status: Image is up to date for " + byDigest}) {
		t.Errorf("pull by digest statuses = %q", st)
	}
	if msgs[0].ID != byDigest {
		t.Errorf("pull by digest: first id %q, want %q", msgs[0].ID, byDigest)
	}

	// Tag, then inspect and list.
	if _, err := s.cli.ImageTag(ctx, client.ImageTagOptions{Source: byDigest, Target: deploy}); err != nil {
		t.Fatalf("tag: %v", err)
	}
	got = s.inspect(deploy)
	if want := []string{ref10, deploy}; got.ID != id1 || !slices.Equal(got.RepoTags, want) {
		t.Errorf("after tag: Id %s RepoTags %q, want %s %q", got.ID, got.RepoTags, id1, want)
	}
	list, err := s.cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", reg.Addr+"/"+s.prefix+"/*")})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	byID := map[string]image.Summary{}
	for _, im := range list.Items {
		byID[im.ID] = im
	}
	if len(list.Items) != 2 || !slices.Equal(byID[id1].RepoTags, []string{ref10, deploy}) || !slices.Equal(byID[id2].RepoTags, []string{ref11}) {
		t.Errorf("list = %+v, want %s [%s %s] and %s [%s]", list.Items, id1, ref10, deploy, id2, ref11)
	}
	if im := byID[id1]; im.Size != got.Size || im.Containers != -1 || im.SharedSize != -1 || !slices.Equal(im.RepoDigests, []string{byDigest}) {
		t.Errorf("list entry %+v, want Size %d, Containers -1, SharedSize -1 (API 1.41), RepoDigests [%s]", im, got.Size, byDigest)
	}

	// A container keeps the image's last reference from going.
	c, err := s.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: deploy, Cmd: []string{"/nonexistent"}},
		Name:   s.prefix + "-c",
	})
	if err != nil {
		t.Fatalf("container create: %v", err)
	}
	s.cleanup(c.ID)
	checkDF(t, s, id1, id2, 1)
	cl, err := s.cli.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		t.Fatalf("container list: %v", err)
	}
	if !slices.ContainsFunc(cl.Items, func(x container.Summary) bool {
		return x.ID == c.ID && x.ImageID == id1 && x.State == "created"
	}) {
		t.Errorf("container list lacks %s (image %s, created): %+v", c.ID, id1, cl.Items)
	}

	rm, err := s.cli.ImageRemove(ctx, ref10, client.ImageRemoveOptions{})
	if err != nil {
		t.Fatalf("remove %s: %v", ref10, err)
	}
	if want := []image.DeleteResponse{{Untagged: ref10}, {Untagged: byDigest}}; !slices.Equal(rm.Items, want) {
		t.Errorf("remove %s = %+v, want %+v", ref10, rm.Items, want)
	}
	_, err = s.cli.ImageRemove(ctx, deploy, client.ImageRemoveOptions{})
	wantMsg := `conflict: unable to remove repository reference "` + deploy + `" (must force) - container ` + c.ID[:12] + ` is using its referenced image ` + id1[7:19]
	if !isConflict(err) || !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("remove %s with a container = %v, want a conflict %q", deploy, err, wantMsg)
	}
	if _, err := s.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{}); err != nil {
		t.Fatalf("container remove: %v", err)
	}
	rm, err = s.cli.ImageRemove(ctx, deploy, client.ImageRemoveOptions{})
	if err != nil {
		t.Fatalf("remove %s: %v", deploy, err)
	}
	if want := []image.DeleteResponse{{Untagged: deploy}, {Deleted: id1}}; !slices.Equal(rm.Items, want) {
		t.Errorf("remove %s = %+v, want %+v (its layers are shared)", deploy, rm.Items, want)
	}
	rm, err = s.cli.ImageRemove(ctx, ref11, client.ImageRemoveOptions{})
	if err != nil {
		t.Fatalf("remove %s: %v", ref11, err)
	}
	want := []image.DeleteResponse{{Untagged: ref11}, {Untagged: repo + "@" + d2}, {Deleted: id2}}
	chain := chainIDs(diffIDs(t, img2))
	for i := len(chain) - 1; i >= 0; i-- {
		want = append(want, image.DeleteResponse{Deleted: chain[i]})
	}
	if !slices.Equal(rm.Items, want) {
		t.Errorf("remove %s = %+v, want %+v", ref11, rm.Items, want)
	}
	_, err = s.cli.ImageInspect(ctx, ref11)
	if !isNotFound(err) || !strings.Contains(err.Error(), "No such image: "+ref11) {
		t.Errorf("inspect after remove = %v, want not found", err)
	}
	_, err = s.cli.ImageRemove(ctx, ref11, client.ImageRemoveOptions{})
	if !isNotFound(err) || !strings.Contains(err.Error(), "No such image: "+ref11) {
		t.Errorf("remove again = %v, want not found", err)
	}
}

// checkDF asserts /system/df for the two images of the lifecycle test:
// img1's layers are all shared with img2, and img1 has containers users.
func checkDF(t *testing.T, s *session, id1, id2 string, containers int64) {
	t.Helper()
	du, err := s.cli.DiskUsage(t.Context(), client.DiskUsageOptions{Images: true, Verbose: true})
	if err != nil {
		t.Fatalf("df: %v", err)
	}
	byID := map[string]image.Summary{}
	var sum int64
	for _, im := range du.Images.Items {
		byID[im.ID] = im
	}
	i1, ok1 := byID[id1]
	i2, ok2 := byID[id2]
	if !ok1 || !ok2 {
		t.Fatalf("df lacks %s or %s: %+v", id1, id2, du.Images.Items)
	}
	sum = i2.Size // img2 holds every layer of both
	if i1.Containers != containers || i2.Containers != 0 {
		t.Errorf("df Containers = %d, %d, want %d, 0", i1.Containers, i2.Containers, containers)
	}
	if i1.SharedSize != i1.Size || i2.SharedSize != i1.Size || i2.Size <= i1.Size {
		t.Errorf("df sizes: img1 %d shared %d, img2 %d shared %d; want img1's layers all shared", i1.Size, i1.SharedSize, i2.Size, i2.SharedSize)
	}
	if du.Images.TotalSize < sum {
		t.Errorf("df LayersSize %d < %d", du.Images.TotalSize, sum)
	}
}

// remotePath is the repository path without the registry, as dockerd's
// "Pulling from" line names it.
func remotePath(t *testing.T, repo string) string {
	t.Helper()
	n, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		t.Fatal(err)
	}
	return reference.Path(n)
}
