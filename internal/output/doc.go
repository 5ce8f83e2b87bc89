// Package output is how Drover's tools show what they do: tables and JSON
// on stdout, progress (bars on a terminal, periodic log lines otherwise)
// on stderr, byte sizes in binary units, and JSON reports written
// atomically (through internal/atomicfile) for the jobs that read them.
//
// It imports no other Drover package but internal/atomicfile, so that
// every library and command can use it. The prewarm tool's report tables
// are their reports' WriteTable methods (fleet.Report, fleet.Matrix,
// fleet.PruneReport, registry.Report), drawn with this package's byte
// sizes; the rollout tool's views, which read the engine's types, are its
// sub-package rolloutview. Print writes either table or JSON for both
// tools. It never decides anything: what to show and when is the caller's.
//
// # Concurrency
//
// HostBars.Update and the show function of RegionBars are safe for
// concurrent use; each view's stop (Close, or the stop function) waits
// until the view has finished writing.
package output
