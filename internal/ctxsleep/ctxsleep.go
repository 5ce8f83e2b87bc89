// Package ctxsleep is the one wait between retries that Drover's libraries
// share: it sleeps for a duration or until the context ends, whichever is
// first. Under testing/synctest it sleeps on the fake clock.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends. It returns nil after the full wait,
// else context.Cause(ctx) (ctx.Err() when the context was cancelled
// without a cause). A d of zero or less does not wait: it returns at once,
// with the cause when ctx has already ended.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
