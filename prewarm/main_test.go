package prewarm

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/inventory"
)

// TestMain fails the package when a test leaves goroutines behind (the
// mirror step, host connections, region gates waiting).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, labtest.IgnoreLeaks()...)
}

// labLock is the lock for what the lab seeded.
func labLock(l *lab.Lab) *inventory.Lock { return labtest.Lock(l) }

func noBackoff(int) time.Duration { return 0 }
