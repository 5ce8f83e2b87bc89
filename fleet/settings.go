package fleet

import (
	"math"
	"slices"
	"time"

	"github.com/drover-dev/drover/inventory"
)

// PullSettings is the inventory's pull bound over the environments envs
// (nil: all), for WithConcurrency and WithTimeout: the sum of their
// pull.concurrency, saturating at the largest int, and the longest of
// their pull.timeout. Zero means no environment sets it.
func PullSettings(inv *inventory.Inventory, envs []string) (concurrency int, timeout time.Duration) {
	for _, e := range inv.Environments {
		if len(envs) == 0 || slices.Contains(envs, e.Name) {
			concurrency = addSat(concurrency, e.Pull.Concurrency)
			timeout = max(timeout, e.Pull.Timeout.Std())
		}
	}
	return concurrency, timeout
}

// addSat is a + b (both >= 0), saturating at the largest int.
func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
