// Package prewarm is the pipeline the prewarm tool runs: resolve the
// release at the source registry, write its lock, mirror it to the
// regions, and pull it onto the hosts of each region as soon as that
// region holds it.
package prewarm
