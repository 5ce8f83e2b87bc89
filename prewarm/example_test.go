package prewarm_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
)

// The nightly job on the lab's registries and simulated Docker hosts:
// resolve the release at the source, write its lock, mirror it to the
// region, and pull it onto the region's hosts. A second night finds
// everything in place.
func ExampleNightly() {
	ctx := context.Background()
	l, err := lab.Start(ctx, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 2, ImageSize: 64 << 10, Layers: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	dir, err := os.MkdirTemp("", "prewarm-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	release := filepath.Join(dir, "release.yaml")
	yaml := "version: 1\nimages:\n"
	for _, s := range l.Seeded {
		yaml += fmt.Sprintf("  - {name: %s-%s, ref: %q}\n", s.Repository, s.Tag, s.Ref)
	}
	if err := os.WriteFile(release, []byte(yaml), 0o600); err != nil {
		log.Fatal(err)
	}
	inv := l.Inventory()
	hosts, err := prewarm.Discover(ctx, inv, fleet.Selection{}, l.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	for night := 1; night <= 2; night++ {
		job := prewarm.Job{Inventory: inv, Release: release, LockFile: inventory.LockPath(release, ""), Hosts: hosts,
			Fleet: prewarm.HostOptions(inv, nil, prewarm.Settings{}, nil, l.Getenv), Getenv: l.Getenv}
		rr, err := prewarm.Nightly(ctx, job)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range rr.Mirror.Results {
			fmt.Println("night", night, "mirror", r.Image, r.Region, r.Status)
		}
		for _, h := range rr.Pull.Hosts {
			for _, im := range h.Images {
				fmt.Println("night", night, "host", h.Name, im.Name, im.Action)
			}
		}
		lock, err := inventory.ReadLock(job.LockFile)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("night", night, "lock:", len(lock.Images), "images; ok:", rr.OK())
	}
	// Output:
	// night 1 mirror app-1.0 eu-west mirrored
	// night 1 mirror app-1.1 eu-west mirrored
	// night 1 host dev-01 app-1.0 pulled
	// night 1 host dev-01 app-1.1 pulled
	// night 1 host dev-02 app-1.0 pulled
	// night 1 host dev-02 app-1.1 pulled
	// night 1 lock: 2 images; ok: true
	// night 2 mirror app-1.0 eu-west present
	// night 2 mirror app-1.1 eu-west present
	// night 2 host dev-01 app-1.0 present
	// night 2 host dev-01 app-1.1 present
	// night 2 host dev-02 app-1.0 present
	// night 2 host dev-02 app-1.1 present
	// night 2 lock: 2 images; ok: true
}
