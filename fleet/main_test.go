package fleet

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestMain fails the package when a test leaves goroutines behind (host
// connections, pull streams, semaphores waiting).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, labtest.IgnoreLeaks()...)
}
