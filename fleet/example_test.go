package fleet_test

import (
	"context"
	"fmt"
	"log"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/inventory"
)

// Pull a release onto every host of an environment, from the region's
// registry (the lab's simulated Docker hosts and registries); a second run
// finds every image present and pulls nothing.
func ExamplePull() {
	ctx := context.Background()
	l, err := lab.Start(ctx, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 2, SeedRegions: true, ImageSize: 64 << 10, Layers: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	lock := &inventory.Lock{Version: 1, Source: l.Source.Addr()} // as prewarm mirror writes it
	for _, s := range l.Seeded {
		lock.Images = append(lock.Images, inventory.LockImage{Name: s.Repository + ":" + s.Tag, Ref: l.Source.Addr() + "/" + s.Ref,
			Repository: s.Repository, Tag: s.Tag, Digest: s.Digest, MediaType: s.MediaType})
	}
	hosts, err := fleet.Targets(l.Inventory(), fleet.Selection{})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		rep, err := fleet.Pull(ctx, hosts, lock, fleet.WithConcurrency(2))
		if err != nil {
			log.Fatal(err)
		}
		for _, h := range rep.Hosts {
			for _, im := range h.Images {
				fmt.Println(h.Name, im.Name, im.Action, "ready:", h.Ready)
			}
		}
	}
	// Output:
	// dev-01 app:1.0 pulled ready: true
	// dev-01 app:1.1 pulled ready: true
	// dev-02 app:1.0 pulled ready: true
	// dev-02 app:1.1 pulled ready: true
	// dev-01 app:1.0 present ready: true
	// dev-01 app:1.1 present ready: true
	// dev-02 app:1.0 present ready: true
	// dev-02 app:1.1 present ready: true
}
