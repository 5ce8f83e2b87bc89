// Package prewarm is the pipeline the prewarm tool runs: resolve the
// release's tags to digests at the source registry, write the lock beside
// the release, mirror the lock to the regional registries, and pull it
// onto every selected Docker host, each region's hosts as soon as that
// region holds the release. Its registry work is the registry package's
// and its host work fleet's; prewarm decides the order, what a failure
// stops, and what the report says.
//
// Nightly is `prewarm run` (the nightly job) from a release file to a
// Report; Run is its last two steps for a lock already written. Resolve
// and Mirror are `prewarm plan` and `prewarm mirror`. Discover,
// HostOptions and RegionGate are how every host command finds its hosts
// and bounds its work from the inventory. A Report renders as Prometheus
// metrics (WriteMetrics) for node_exporter's textfile collector;
// FailedRun is the report of a run that stopped before it started, so the
// metrics say so instead of keeping the last good run's.
//
// # Concurrency
//
// Run mirrors in one goroutine while the hosts wait per region: a region's
// hosts start pulling the moment the mirror reports it ready, and those of
// a region it reports unreachable are not ready at once, without a pull
// attempt. The pull is bounded as fleet.Pull bounds it (overall, per
// registry, per attempt). RegionGate checks each region registry once,
// however many hosts ask. LockRun keeps two runs of one release from
// overlapping, across processes. All functions are safe for concurrent
// use.
//
// # Failure policy
//
// A bad release, a moved tag (without Relock), a bad option
// or a source that does not answer stops the run before it changes
// anything. After that nothing stops it: a region that fails alone fails
// only its hosts, a failed mirror still lets the regions it reached pull,
// and a failing host never stops the others. Errors carry their exit code
// (internal/cli): 2 for what the operator decides, 1 for work that failed.
//
// # What it never does
//
// It never writes a lock it did not resolve, never mirrors or pulls with
// options it would refuse (they are checked before the mirror starts),
// never pulls across regions unless asked (Settings.FallbackSource), never
// logs registry credentials, and prints nothing: logs go to an optional
// *slog.Logger, progress to the fleet and registry options' callbacks.
package prewarm
