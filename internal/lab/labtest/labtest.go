// Package labtest starts a lab for one test: one call, closed by
// t.Cleanup, with goleak options for what the lab's dependencies leave
// behind by design.
package labtest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
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

// Lock is the release lock of what the lab seeded, as prewarm mirror
// would write it: each image by digest, named repository-tag.
func Lock(l *lab.Lab) *inventory.Lock {
	lock := &inventory.Lock{Version: 1, Source: l.Source.Addr()}
	for _, s := range l.Seeded {
		lock.Images = append(lock.Images, inventory.LockImage{
			Name: s.Repository + "-" + s.Tag, Ref: l.Source.Addr() + "/" + s.Ref,
			Repository: s.Repository, Tag: s.Tag, Digest: s.Digest, MediaType: s.MediaType,
			Platforms: indexPlatforms(s.Platforms),
		})
	}
	return lock
}

// indexPlatforms is what a lock records for an image's platforms: only an
// index's ("os/arch[:os.version]").
func indexPlatforms(p []string) []string {
	if len(p) < 2 {
		return nil
	}
	return p
}
