package registries_test

import (
	"context"
	"fmt"
	"log"

	"github.com/drover-dev/drover/internal/lab/registries"
)

// Seed two versions of an app that share half their layers. Content is a
// pure function of the spec, so the digests are the same on every run.
func ExampleSeed() {
	ctx := context.Background()
	r, err := registries.Start(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	seeded, err := registries.Seed(ctx, r.Addr(), registries.SeedSpec{
		Images: []string{"app:1.0", "app:1.1"},
		Size:   64 << 10,
		Layers: 4,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range seeded {
		fmt.Println(s.Ref, s.Digest[:19], len(s.Layers), "layers")
	}
	v0, v1 := seeded[0].Layers, seeded[1].Layers
	fmt.Println("shared:", v0[0] == v1[0], v0[1] == v1[1], v0[2] == v1[2], v0[3] == v1[3])
	// Output:
	// app:1.0 sha256:c90f5ba582b2 4 layers
	// app:1.1 sha256:2509f42d7e8a 4 layers
	// shared: true true false false
}
