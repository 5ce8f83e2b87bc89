// Package registry mirrors release images from the source (build) registry
// to regional registries, digest-exact, moving only what is missing.
//
// Resolve turns a release's tags into digests once, at the source, and
// returns the lock that every later step acts on; a tag that moved since a
// previous lock is an error (*TagMovedError), not a silent re-resolve. Mirror
// copies each locked image to every region so that the manifest bytes, and so
// the digests, are identical; Plan reports what Mirror would move without
// writing anything.
//
// How bytes move. Mirror first HEADs the manifest digest in each region and
// skips images that are there (a no-op run costs one HEAD per image and
// region, plus one ping per registry, and reads nothing from the source).
// For the rest it HEADs child manifests and blobs, mounts blobs across
// repositories where the region already holds them (a 201 on the mount POST),
// and uploads the remaining ones. Each missing source blob is read once
// however many regions lack it: one GET from the source is streamed into one
// upload per region (fan-out). Each upload has a small bounded buffer, so a
// slow region slows the stream (backpressure) but never makes the source read
// restart; a region whose upload fails drops out of the stream and retries
// that blob alone from the source afterwards, while the others continue. A
// source read cut mid-blob resumes with a Range request where the source
// supports it. A blob larger than 8 MiB is read as 8 MiB ranges, up to 4 at
// once (one GET stream is often held below the link's rate by TCP windows
// on a long path), reassembled in order for the uploads and the digest; a
// source that answers the first Range with 200 is read by that one GET. The
// extra ranges borrow free slots of the source's limit, so maxConcurrency
// still bounds the GETs in flight. Blobs are never held whole in memory:
// memory is bounded by jobs x (regions x a few 256 KiB chunks + 4 ranges of
// 8 MiB read ahead), whatever the image size: at most 128 MiB of ranges at
// the default 4 jobs.
//
// Multi-arch indexes are kept whole by default. WithPlatforms narrows an
// index to the platforms given; that changes the index, and so its digest:
// the lock records the narrowed digest (the one regions receive, and the one
// prewarm pulls and rollout deploys) plus the platforms kept. Mirror rebuilds
// the narrowed index from the source's index (by tag) and refuses to push it
// unless it hashes to the locked digest. Non-distributable (foreign) layers
// are left as references (hosts fetch them from their URLs) except in
// regions whose inventory entry sets foreignLayers: mirror, or everywhere
// with WithNondistributable; their manifests are copied unchanged, urls
// kept (docs/foreign-layers.md says why).
//
// Manifests are pushed after all their blobs, children before their index,
// and the top manifest by tag when the lock has one (else by digest), so an
// interrupted run leaves no manifest pointing at missing blobs and a re-run
// resumes by skipping whatever is complete. Each image is pushed to each
// region as soon as its blobs are there, without waiting for the blobs of
// other images or regions, so a region is reported done (WithRegionDone)
// while slower ones still upload. An image already present in a region (by
// digest) is not re-tagged there: hosts pull by digest.
//
// Concurrency: images, regions and blobs proceed in parallel, bounded by
// WithJobs overall and, per registry, by inventory.Registry.MaxConcurrency
// (the jobs value when unset): that many blob transfers (a source read or a
// region upload, held while streaming), and separately that many other
// requests (HEAD, POST, manifests) at once. A fan-out takes its source slot
// first, then its regions' in name order, so fan-outs cannot deadlock.
// Every function is safe for concurrent use; the progress callback is
// called from one goroutine at a time.
//
// Failures: requests answered 408, 429 (honouring Retry-After) or 5xx, and
// connection errors, are retried with backoff; 401 and 403 are not (the error
// wraps ErrAuth and no further requests go to a registry that answered 401).
// Mirror keeps going when an image or region fails: the Report names every
// failed image and region and the returned error joins them.
//
// The package never prints, never logs credentials (they come from
// authn.DefaultKeychain or the env vars the inventory names), never deletes
// anything from a registry and never moves a tag at the source.
package registry
