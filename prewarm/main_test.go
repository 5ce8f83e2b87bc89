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

// labLock is the lock for what the lab seeded (as prewarm mirror would
// write it).
func labLock(l *lab.Lab) *inventory.Lock {
	lock := &inventory.Lock{Version: 1, Source: l.Source.Addr()}
	for _, s := range l.Seeded {
		lock.Images = append(lock.Images, inventory.LockImage{
			Name: s.Repository + "-" + s.Tag, Ref: l.Source.Addr() + "/" + s.Ref,
			Repository: s.Repository, Tag: s.Tag, Digest: s.Digest, MediaType: s.MediaType,
		})
	}
	return lock
}

func noBackoff(int) time.Duration { return 0 }
