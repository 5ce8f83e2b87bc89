// Package fleet is Drover's work on Docker hosts: it puts release images
// onto the hosts before anyone deploys (prewarm pull, seed, and the pull
// step of prewarm run, which the prewarm package sequences), reports
// which hosts hold which image, by digest (status, and rollout's presence
// gate), and prunes old images. Every verb works over the whole fleet of
// selected hosts (Targets, Discover), bounded and concurrent.
//
// Pull pulls every image of a release lock onto every selected host: each
// host pulls <region registry>/<repository>@<digest> from its own region's
// registry, the result's RepoDigests are verified, and the image is tagged
// <region registry>/<repository>:<tag>, the reference rollout deploys. A
// host that already holds the digest under that tag costs one inspect call
// and no pull. Status and Check answer the same presence question without
// changing anything (rollout's gate calls Check). Seed fills one new host
// with what its environment runs now; PruneAll (Prune on one host) removes
// old images of a release's repositories. PullSettings reads the
// inventory's per-environment pull bounds for the whole selection.
//
// # Concurrency
//
// Pull works on hosts concurrently, bounded overall (WithConcurrency) and
// per registry (WithRegistryLimit, a context-aware semaphore shared by all
// hosts pulling from that registry); a host's images go one after another,
// so layers shared between them are fetched once. Every pull attempt has a
// timeout (WithTimeout) and failed attempts are retried with backoff
// (WithRetries, WithBackoff). The progress callback is called concurrently
// for different hosts, sequentially for one host. All functions are safe
// for concurrent use.
//
// # Failure policy
//
// A failing host never stops the others: Pull returns a Report covering every
// host plus errors.Join of one *HostError per failed host and image. A pull
// that the daemon answers with HTTP 200 and then an errorDetail line in the
// JSON stream is a failure, like an HTTP error. A full disk is a
// *NoSpaceError, not retried; where a host's free space is known
// (Target.Disk, from Rancher's host info), the pull is stopped with that
// error as soon as the layers the daemon announces exceed it. For a host
// reached through Rancher, a refusal (Refused: the key's role lacks
// modifyInfra, a refused token, a ws:// relay URL from an https server) is
// not retried and costs one dockersocket action per host and call; a
// dropped relay or an agent that is away is retried like a
// dropped connection. A host Rancher lists but does not report active
// (Target.NotActive, from Discover) is never dialled and fails like an
// unreachable host.
//
// # What it never does
//
// It never pulls across regions unless WithFallbackSource is given and the
// region's registry lacks the digest; it never removes an image a container
// uses (running or stopped) or one the lock names; it never logs registry
// credentials; and it prints nothing: logs go to an optional *slog.Logger,
// progress to an optional callback.
package fleet
