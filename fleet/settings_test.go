package fleet

import (
	"fmt"
	"math"
	"testing"

	"github.com/drover-dev/drover/inventory"
)

// TestConcurrencySumSaturates: the inventory's pull.concurrency values are
// summed over environments; near the largest int the sum saturates (was:
// MaxInt, MaxInt and 3 wrapped around to a bound of 1 host at a time).
func TestConcurrencySumSaturates(t *testing.T) {
	t.Parallel()
	inv := &inventory.Inventory{}
	for i, c := range []int{math.MaxInt, math.MaxInt, 3} {
		e := inventory.Environment{Name: fmt.Sprint("env", i)}
		e.Pull.Concurrency = c
		inv.Environments = append(inv.Environments, e)
	}
	if conc, _ := PullSettings(inv, nil); conc != math.MaxInt {
		t.Errorf("PullSettings: concurrency %d, want %d", conc, math.MaxInt)
	}
	if conc, _ := PullSettings(inv, []string{"env2"}); conc != 3 {
		t.Errorf("PullSettings of env2: concurrency %d, want 3", conc)
	}
}
