package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

// TestLabFreeSpaceViaRancher: for hosts reached through Rancher (or
// discovered there with a Docker endpoint) whose agent reports free space (info.diskInfo), a pull whose layers outgrow it
// is stopped as soon as the daemon announces them, before the disk fills,
// not retried, with the prune to run (was: the disk filled first). Space
// taken by the run's earlier pulls counts; with enough space, or no
// figure, hosts pull as before.
func TestLabFreeSpaceViaRancher(t *testing.T) {
	t.Parallel()
	const size = 4 << 20 // one image, one layer
	tests := []struct {
		name      string
		capacity  int64
		images    int
		wantDisk  bool
		wantPulls int  // images pulled onto the host
		discover  bool // discovered in Rancher with a Docker endpoint, not reached through it
	}{
		{"too little for one", 2 << 20, 1, true, 0, false},
		{"room for one of two", 6 << 20, 2, true, 1, false},
		{"enough", 64 << 20, 2, true, 2, false},
		{"no info", 0, 2, false, 2, false},
		{"discovered, too little", 2 << 20, 1, true, 0, true},
		{"discovered, no info", 0, 1, false, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := lab.Config{Envs: 2, HostsPerEnv: 1, ViaRancher: []string{"qa"}, SeedRegions: true, ImageSize: size, Layers: 1, DiskCapacity: tt.capacity}
			var l *lab.Lab
			var hosts []Target
			if tt.discover {
				cfg.ViaRancher, cfg.Discover = nil, []string{"qa"}
				l = labtest.New(t, cfg)
				inv := l.Inventory()
				var err error
				hosts, err = Discover(t.Context(), inv, Selection{Envs: []string{"qa"}}, func(env *inventory.Environment) (RancherHosts, string, error) {
					return rancher.Connect(inv, env.Name, l.Getenv)
				})
				if err != nil {
					t.Fatalf("Discover: %v", err)
				}
			} else {
				l, _, hosts = viaRancherLab(t, cfg)
			}
			h := hosts[0]
			if (h.Disk != nil) != tt.wantDisk {
				t.Fatalf("host %s: Disk %+v, want known: %v", h.Name, h.Disk, tt.wantDisk)
			}
			lock := labLock(l)
			lock.Images = lock.Images[:tt.images]
			rep, err := Pull(t.Context(), hosts, lock, WithBackoff(noBackoff), WithRetries(3))
			pulled := 0
			for _, ir := range rep.Hosts[0].Images {
				if ir.Action == ActionPulled {
					pulled++
				}
			}
			if pulled != tt.wantPulls {
				t.Errorf("%d images pulled, want %d (err %v)", pulled, tt.wantPulls, err)
			}
			if tt.wantPulls == tt.images {
				if err != nil {
					t.Errorf("Pull: %v", err)
				}
				return
			}
			var ns *NoSpaceError
			var nr *noRoomError
			if !errors.As(err, &ns) || !errors.As(err, &nr) {
				t.Fatalf("Pull: %v, want a NoSpaceError stopped before the disk filled", err)
			}
			if testing.Verbose() {
				t.Log(err)
			}
			if ns.Host != h.Name || ns.Env != h.Env || ns.Free <= 0 || ns.Need <= ns.Free || ns.Downloaded >= min(ns.Need, tt.capacity) {
				t.Errorf("NoSpaceError %+v: want host %s (%s), a need above the free space, and less downloaded than it or the disk holds", ns, h.Name, h.Env)
			}
			if ir := rep.Hosts[0].Images[tt.wantPulls]; ir.Attempts != 1 {
				t.Errorf("%d attempts: a pull that does not fit is not retried", ir.Attempts)
			}
			msg := err.Error()
			for _, want := range []string{h.Name, "no space left on device", "Rancher's host info", "before the disk filled", "`prewarm prune --env " + h.Env + " --repo "} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
		})
	}
}
