package fleet

import (
	"context"
	"errors"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/drover-dev/drover/inventory"
)

// PruneAll runs Prune on every host, concurrently (bounded by
// WithConcurrency): each host keeps keep[host.Env] previous images and
// follows deployed[host.Env] (nil: creation time) for what its environment
// runs. Reports are in the order of hosts (nil for a host that failed
// before it listed its images); a failing host never stops the others, and
// the error joins theirs.
func PruneAll(ctx context.Context, hosts []Target, repos []string, keep map[string]int, lock *inventory.Lock, dryRun bool, deployed map[string]*Deployed, opts ...Option) ([]*PruneReport, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	reps := make([]*PruneReport, len(hosts))
	var mu sync.Mutex
	var errs []error
	var g errgroup.Group
	g.SetLimit(o.concurrency)
	for i, t := range hosts {
		g.Go(func() error {
			hopts := append(slices.Clone(opts), WithDeployed(deployed[t.Env]))
			rep, err := Prune(ctx, t, repos, keep[t.Env], lock, dryRun, hopts...)
			reps[i] = rep
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return reps, errors.Join(errs...)
}
