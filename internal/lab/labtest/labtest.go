// Package labtest starts a lab for one test: one call, closed by
// t.Cleanup, with goleak options for what the lab's dependencies leave
// behind by design.
package labtest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/registries"
)

// New starts a lab from cfg and closes it when the test ends. It fails the
// test (t.Fatal) if the lab does not start.
func New(t testing.TB, cfg lab.Config) *lab.Lab {
	t.Helper()
	l, err := lab.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start lab: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	return l
}

// IgnoreLeaks are the goleak options a package using labs should pass to
// goleak.VerifyTestMain or goleak.VerifyNone: goroutines a closed lab
// leaves behind on purpose (distribution's never-stopped notification
// broadcaster, one per registry).
func IgnoreLeaks() []goleak.Option {
	return registries.IgnoreLeaks()
}
