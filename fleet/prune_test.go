package fleet

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/inventory"
)

// TestPruneRealDocker: five versions of a repository on the real daemon,
// v1 used by a stopped container (what a Rancher rollback restarts).
func TestPruneRealDocker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		keep        int
		lockVersion int // 0 = no lock
		wantRemoved []int
	}{
		{name: "lock is current, keep 1, newer stays", keep: 1, lockVersion: 4, wantRemoved: []int{2}},
		{name: "no lock: newest is current, keep 0", keep: 0, wantRemoved: []int{2, 3, 4}},
		{name: "keep 3 removes nothing", keep: 3, lockVersion: 5, wantRemoved: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := testRegistry(t, nil)
			host := realDocker(t, addr)
			repo, other := uniqueRepo(t, "prune"), uniqueRepo(t, "other")
			cleanupRepos(t, addr, repo, other)
			base := time.Now().Add(-24 * time.Hour)
			var all []inventory.LockImage
			for v := 1; v <= 5; v++ {
				all = append(all, pushImageCreated(t, addr, repo, fmt.Sprintf("%d.0", v), 1, 8<<10, base.Add(time.Duration(v)*time.Hour)))
			}
			all = append(all, pushImage(t, addr, other, "1.0", 1, 8<<10))
			if _, err := Pull(t.Context(), []Target{host}, &inventory.Lock{Images: all}); err != nil {
				t.Fatal(err)
			}
			createContainer(t, LockWant(addr, all[0]).Ref)

			var lock *inventory.Lock
			if tc.lockVersion > 0 {
				lock = &inventory.Lock{Images: []inventory.LockImage{all[tc.lockVersion-1]}}
			}
			dry, err := Prune(t.Context(), host, []string{repo}, tc.keep, lock, true)
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if got := versions(dry.Removed, all); !slices.Equal(got, tc.wantRemoved) {
				t.Fatalf("dry run would remove %v, want %v (kept %+v)", got, tc.wantRemoved, dry.Kept)
			}
			if len(tc.wantRemoved) > 0 && dry.BytesFreed <= 0 {
				t.Errorf("dry run frees %d bytes", dry.BytesFreed)
			}
			for v := 1; v <= 5; v++ {
				if _, err := inspectReal(t, LockWant(addr, all[v-1]).Ref); err != nil {
					t.Errorf("dry run removed v%d: %v", v, err)
				}
			}

			rep, err := Prune(t.Context(), host, []string{repo}, tc.keep, lock, false)
			if err != nil {
				t.Fatalf("prune: %v", err)
			}
			if got := versions(rep.Removed, all); !slices.Equal(got, tc.wantRemoved) {
				t.Errorf("removed %v, want %v", got, tc.wantRemoved)
			}
			for v := 1; v <= 5; v++ {
				_, err := inspectReal(t, LockWant(addr, all[v-1]).Pull)
				if gone := err != nil; gone != slices.Contains(tc.wantRemoved, v) {
					t.Errorf("v%d gone=%v (err %v), want gone=%v", v, gone, err, !gone)
				}
			}
			if _, err := inspectReal(t, LockWant(addr, all[5]).Ref); err != nil {
				t.Errorf("image of another repository removed: %v", err)
			}
		})
	}
}

// versions maps pruned images back to 1-based version numbers.
func versions(ps []PrunedImage, all []inventory.LockImage) []int {
	var out []int
	for i, im := range all {
		for _, p := range ps {
			if hasDigest(p.Refs, im.Repository, im.Digest) {
				out = append(out, i+1)
			}
		}
	}
	return out
}

// createContainer creates (never starts) a container from ref on the real
// daemon, removed at cleanup.
func createContainer(t *testing.T, ref string) {
	t.Helper()
	c, err := client.New(client.WithHost(dockerSock))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ContainerCreate(t.Context(), client.ContainerCreateOptions{Config: &container.Config{Image: ref, Cmd: []string{"/never-started"}}})
	if err != nil {
		t.Fatalf("create container from %s: %v", ref, err)
	}
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.Background(), res.ID, client.ContainerRemoveOptions{Force: true})
		_ = c.Close()
	})
}
