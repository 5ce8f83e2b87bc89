package registries

import (
	"fmt"
	"testing"
)

// BenchmarkSeed pushes one 256 MiB image of 8 layers (generation, hashing
// and upload) into a fresh registry of each implementation.
func BenchmarkSeed(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.String(), func(b *testing.B) {
			for i := range b.N {
				r, err := Start(b.Context(), WithImpl(impl))
				if err != nil {
					b.Fatal(err)
				}
				spec := SeedSpec{Images: []string{fmt.Sprintf("bench%d:1", i)}, Size: 256 << 20, Layers: 8}
				if _, err := Seed(b.Context(), r.Addr(), spec); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(spec.Size)
				r.Close()
			}
		})
	}
}
