package fleet

import (
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/inventory"
)

// TestViaRancherRealDocker: the machine's real dockerd is a lab host reached
// only through the Rancher simulator's relay; an image from a loopback
// registry is pulled, checked and pruned there.
func TestViaRancherRealDocker(t *testing.T) {
	t.Parallel()
	addr := testRegistry(t, nil)
	realDocker(t, addr) // skips, or fails under DROVER_REQUIRE_DOCKER=1, without a daemon
	repo := uniqueRepo(t, "via-rancher")
	cleanupRepos(t, addr, repo)
	now := time.Now()
	lock := &inventory.Lock{Version: 1, Images: []inventory.LockImage{
		pushImageCreated(t, addr, repo, "1.0", 1, 32<<10, now.Add(-time.Hour)),
		pushImageCreated(t, addr, repo, "1.1", 1, 32<<10, now),
	}}

	l, _, hosts := viaRancherLab(t, lab.Config{Envs: 2, HostsPerEnv: 1, ViaRancher: []string{"qa"}, ImageSize: 16 << 10, Layers: 1})
	host := hosts[0]
	l.RancherHost(host.Name).SetDocker(ranchersim.DialUnix("/var/run/docker.sock"))
	host.Registry = addr

	rep, err := Pull(t.Context(), []Target{host}, lock, WithBackoff(noBackoff))
	if err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("Pull onto the real dockerd through Rancher: %v", err)
	}
	if _, err := inspectReal(t, lock.Images[0].Ref); err != nil {
		t.Fatalf("the real dockerd lacks %s after the pull: %v", lock.Images[0].Ref, err)
	}
	cells, err := Check(t.Context(), host, lock.Images)
	if err != nil || len(cells) != 2 || cells[0].State != StatePresent || cells[1].State != StatePresent {
		t.Fatalf("Check through Rancher: %+v %v, want present", cells, err)
	}
	pr, err := Prune(t.Context(), host, []string{repo}, 0, nil, false)
	if err != nil {
		t.Fatalf("Prune through Rancher: %v", err)
	}
	if len(pr.Removed) != 1 {
		t.Errorf("prune removed %d images, want 1 (1.0; 1.1 is current): %+v", len(pr.Removed), pr)
	}
	if _, err := inspectReal(t, lock.Images[0].Ref); !isNotFoundErr(err) {
		t.Errorf("%s still on the real dockerd after prune: %v", lock.Images[0].Ref, err)
	}
}
