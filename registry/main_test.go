package registry

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests: fan-out writers,
// PUT bodies and connections of Mirror's own transport included. The
// distribution registries of the lab leave one notification broadcaster
// each behind after Close (distribution v3's, not ours).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/docker/go-events.(*Broadcaster).run"))
}
