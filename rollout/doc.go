// Package rollout is the rollout engine: gated, batched Rancher 1.6 service
// upgrades per environment, in waves across environments, finished or rolled
// back on its own.
//
// The engine declares the small interfaces it needs and nothing more:
// [Rancher] (one environment's services, hosts and the upgrade actions),
// [Presence] (does a host hold an image digest: the check prewarm status
// makes) and [Puller] (pull a missing image, for --prewarm). Of Drover's
// packages it imports only inventory (and the internal helpers atomicfile,
// ctxsleep and journalfmt): the adapters over the typed client in rancher
// and over fleet's host checks live in the sub-package rollout/adapt, so
// the engine is tested against in-process fakes in fake time and, through
// those adapters, against the lab's Rancher simulator over real HTTP. Its
// defaults are the Default* constants, which the rollout command's flags
// show.
//
// Per environment, [Engine.Apply] runs five steps: gate (every active host
// that can run a service holds its image), pre-flight (pending upgrades from
// an earlier run are finished, rolled back or reported, per policy),
// upgrade (bounded concurrency, deadline per service), verify (healthy for
// the soak time; "started-once" for a service whose containers run once,
// label io.rancher.container.start_once) and finish. A failure rolls back that environment's
// upgraded services and stops later waves. Environments within a wave run in
// parallel (bounded); waves run in order.
//
// Concurrency: an [Engine] may be used by one Apply/Plan/Finish/Rollback call
// at a time; the progress callback is called from many goroutines, serialized
// by the engine. The [Journal] is safe for concurrent use.
//
// What it never does: it never makes a Rancher write call for an environment
// whose gate has not opened, never blindly retries an action Rancher refused
// (a 4xx such as 422 ActionNotAvailable), never waits without a deadline,
// and never prints: results come back as a [Report], progress through a
// callback, logs through a *slog.Logger (default discard).
package rollout
