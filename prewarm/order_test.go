package prewarm

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/registry"
)

// TestRunRegionPullsWhileAnotherMirrors: the mirror reports the first
// region ready and holds the second until every host of the first is done
// (ready or failed). The first region's hosts must pull while the second
// is still being mirrored, and no host of the second may be called before
// its region is reported; an error for the second region is that region's
// hosts' error, and only theirs.
func TestRunRegionPullsWhileAnotherMirrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fail bool
	}{
		{name: "slow region ready"},
		{name: "slow region failed", fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := labtest.New(t, lab.Config{Regions: 2, Envs: 2, HostsPerEnv: 3, SeedRegions: true, ImageSize: 64 << 10, Layers: 1})
			hosts, err := fleet.Targets(l.Inventory(), fleet.Selection{})
			if err != nil {
				t.Fatal(err)
			}
			fast, slow := l.RegionNames()[0], l.RegionNames()[1]
			var slowErr error
			if tc.fail {
				slowErr = &registry.RegionError{Region: slow, Err: errors.New("no answer within 3s")}
			}
			regionOf := map[string]string{}
			left := 0
			for _, h := range hosts {
				regionOf[h.Name] = h.Region
				if h.Region == fast {
					left++
				}
			}
			if left == 0 || left == len(hosts) {
				t.Fatalf("lab hosts %v: want hosts in both regions %s and %s", regionOf, fast, slow)
			}

			var mu sync.Mutex
			var events []fleet.Progress
			slowReported := false
			fastDone := make(chan struct{})
			progress := func(ev fleet.Progress) {
				mu.Lock()
				defer mu.Unlock()
				events = append(events, ev)
				if regionOf[ev.Host] == slow && !slowReported {
					t.Errorf("host %s of region %s called (%s) before its region was reported", ev.Host, slow, ev.Phase)
				}
				if regionOf[ev.Host] == fast && (ev.Phase == "done" || ev.Phase == "present" || ev.Phase == "failed") {
					if left--; left == 0 {
						close(fastDone)
					}
				}
			}
			mirror := func(ctx context.Context, ready func(string, error)) (*registry.Report, error) {
				ready(fast, nil)
				select {
				case <-fastDone:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				mu.Lock()
				slowReported = true
				mu.Unlock()
				ready(slow, slowErr)
				return &registry.Report{}, slowErr
			}
			// A guard, not a wait: if the first region's hosts waited
			// for the whole mirror, the mirror and the pull would wait
			// for each other until it.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			rr, err := Run(ctx, hosts, labLock(l), mirror, fleet.WithBackoff(noBackoff), fleet.WithProgress(progress))
			if ctx.Err() != nil {
				t.Fatalf("Run hit the guard deadline: region %s's hosts waited for region %s's mirror", fast, slow)
			}
			if (err != nil) != (slowErr != nil) {
				t.Fatalf("Run: %v, want an error %v", err, slowErr != nil)
			}
			var wantNotReady []string
			for _, h := range rr.Pull.Hosts {
				switch {
				case h.Region == fast && !h.Ready:
					t.Errorf("host %s of region %s not ready: %s", h.Name, fast, h.Error)
				case h.Region == slow && slowErr == nil && !h.Ready:
					t.Errorf("host %s of region %s not ready: %s", h.Name, slow, h.Error)
				case h.Region == slow && slowErr != nil:
					wantNotReady = append(wantNotReady, h.Name)
					if h.Ready || !strings.Contains(h.Error, "region "+slow+" unreachable") {
						t.Errorf("host %s of failed region %s: ready %v, error %q; want the region's error", h.Name, slow, h.Ready, h.Error)
					}
				}
			}
			if strings.Join(rr.NotReady, ",") != strings.Join(wantNotReady, ",") {
				t.Errorf("not ready %v, want %v", rr.NotReady, wantNotReady)
			}
			if slowErr != nil && rr.MirrorError == "" {
				t.Error("report has no mirror error")
			}
		})
	}
}
