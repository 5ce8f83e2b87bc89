package registry_test

import (
	"context"
	"fmt"
	"log"

	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

// Resolve a release at the source once, then mirror the lock to a region;
// a second run finds everything in place.
func ExampleMirror() {
	ctx := context.Background()
	src, err := registries.Start(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	eu, err := registries.Start(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer eu.Close()
	if _, err := registries.Seed(ctx, src.Addr(), registries.SeedSpec{Images: []string{"team/app:1.4"}, Size: 64 << 10, Layers: 2}); err != nil {
		log.Fatal(err)
	}

	source := inventory.Registry{Address: src.Addr(), Insecure: true} // the lab speaks plain HTTP
	regions := map[string]inventory.Registry{"eu": {Address: eu.Addr(), Insecure: true}}
	rel := &inventory.Release{Version: 1, Images: []inventory.ReleaseImage{{Name: "app", Ref: "team/app:1.4"}}}
	lock, err := registry.Resolve(ctx, source, rel)
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		rep, err := registry.Mirror(ctx, lock, source, regions, registry.WithJobs(2))
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range rep.Results {
			fmt.Println(r.Image, r.Region, r.Status, "uploaded:", r.BlobsUploaded, "digest ok:", r.Digest == lock.Images[0].Digest)
		}
	}
	// Output:
	// app eu mirrored uploaded: 3 digest ok: true
	// app eu present uploaded: 0 digest ok: true
}
