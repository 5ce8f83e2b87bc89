// Package registries runs real container registries on 127.0.0.1 for the
// lab and seeds them with deterministic images.
//
// Start serves one registry: github.com/distribution/distribution/v3 with
// the filesystem driver by default, or go-containerregistry's pkg/registry
// with disk-backed blobs (WithImpl(GGCR)). Every registry sits behind a
// netem.Faults (fault knobs, request log, byte counters; Down closes its
// port) and a netem link (WithLink, SetLink), and optionally HTTP Basic
// auth (WithBasicAuth). Every registry also serves generated foreign-layer
// blobs under /lab/foreign/, outside the registry API and without auth, so
// a client that follows a foreign layer's URLs can fetch it.
//
// Why distribution by default (numbers in ../shared/MEASURED.md, 2 cores,
// loopback): copying a 1 GiB image (8 x 128 MiB layers) between two
// distribution registries takes 3.7 s (~290 MB/s) against 11.7-12.1 s
// between two pkg/registry servers, which take one lock for uploads,
// re-hash blobs on every HEAD and cannot mount blobs across repositories
// (distribution: 0.01 s). A benchmark against pkg/registry measures the
// registry, not Drover, and production mirrors run distribution. Its cost
// is dependency weight (148 modules, a 33 MB binary for a small program),
// acceptable for a lab.
//
// Seed pushes images whose bytes are a pure function of the SeedSpec:
// every layer is a gzip stream (stored blocks, so no compression work) of a
// tar holding one file of ChaCha8 bytes seeded from the layer's key, made
// on the fly and never held in memory; digests take one generating pass
// and are cached process-wide. Tags of one repository share their base
// layers; one reference can be a linux/amd64 + windows/amd64 manifest list
// and one can carry a foreign layer (not pushed, as go-containerregistry
// never pushes non-distributable layers; Windows daemons fetch it from its
// URL, a Linux dockerd only from the registry, so it cannot pull that image
// unless a mirror copied the blob: TestRealDockerPullsSeededImages pins
// this).
//
// Concurrency: a Registry is safe for concurrent use; its knobs can be
// turned while requests are in flight. Seed may run concurrently with
// other Seeds.
//
// What it never does: listen on anything but the address it was given
// (127.0.0.1 by default), use TLS, or log. distribution logs through
// logrus' process-wide standard logger; the first Start of a distribution
// registry discards logrus output for the whole process (nothing else here
// uses logrus). A distribution App starts one notification broadcaster
// goroutine that it never stops (github.com/docker/go-events
// (*Broadcaster).run); leak checks must ignore it (labtest does).
package registries
