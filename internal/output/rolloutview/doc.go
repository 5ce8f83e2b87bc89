// Package rolloutview is the rollout tool's part of the output home: the
// live table on a terminal (fitted to its size, log lines kept above it,
// redrawn at most every 200 ms with the final state always drawn),
// the periodic progress lines in logs, and the report, plan and status
// tables. It sits below internal/output, apart from it, because it reads the
// rollout engine's types: the host-side packages (fleet, prewarm) use
// internal/output and never import rollout, directly or through it.
//
// It only writes to the writers it is given; it never reads from Rancher.
package rolloutview
