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

// TestRunHungRegion: one region's registry takes requests and never
// answers. The other regions hold the release and their hosts pull before
// the hung region is given up on; the hung region's hosts are not ready
// with "region X unreachable", without a pull attempt (which would wait
// out the pull timeout), and the report and metrics count them not ready.
func TestRunHungRegion(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Regions: 3, Envs: 3, HostsPerEnv: 2, SeedRegions: true, ImageSize: 64 << 10, Layers: 1})
	inv := l.Inventory()
	hosts, err := fleet.Targets(inv, fleet.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	hung := l.RegionNames()[2]
	l.Region(hung).Faults().Hang(true)
	t.Cleanup(func() { l.Region(hung).Faults().Hang(false) })

	var mu sync.Mutex
	var events []fleet.Progress
	progress := func(ev fleet.Progress) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}
	const stall = 3 * time.Second // healthy hosts finish well before it, even on a loaded machine
	mirror := func(ctx context.Context, ready func(string, error)) (*registry.Report, error) {
		return registry.Mirror(ctx, labLock(l), inv.Registries.Source, inv.Registries.Regions,
			registry.WithStallTimeout(stall), registry.WithRetry(5, time.Millisecond, time.Millisecond),
			registry.WithRegionDone(ready))
	}
	// The pull timeout is far beyond the test's: a pull from the hung
	// region would hang the test.
	rr, err := Run(t.Context(), hosts, labLock(l), mirror, fleet.WithTimeout(time.Hour), fleet.WithBackoff(noBackoff), fleet.WithProgress(progress))
	if err == nil {
		t.Fatal("Run with a hung region: no error")
	}
	if !strings.Contains(rr.MirrorError, "region "+hung+" unreachable") {
		t.Errorf("mirror error %q, want it to name region %s unreachable", rr.MirrorError, hung)
	}
	regionOf := map[string]string{}
	for _, h := range hosts {
		regionOf[h.Name] = h.Region
	}
	var wantNotReady []string
	for _, h := range rr.Pull.Hosts {
		switch {
		case h.Region == hung:
			wantNotReady = append(wantNotReady, h.Name)
			if h.Ready || !strings.Contains(h.Error, "region "+hung+" unreachable: no answer within 3s") {
				t.Errorf("host %s of the hung region: ready %v, error %q; want not ready naming the region", h.Name, h.Ready, h.Error)
			}
			if s := l.DockerHost(h.Name).Stats(); s.Pulls+s.Inspects != 0 {
				t.Errorf("host %s of the hung region: %d pulls, %d inspects; want no calls", h.Name, s.Pulls, s.Inspects)
			}
		case !h.Ready:
			t.Errorf("host %s of healthy region %s not ready: %s", h.Name, h.Region, h.Error)
		}
	}
	if strings.Join(rr.NotReady, ",") != strings.Join(wantNotReady, ",") {
		t.Errorf("not ready %v, want %v", rr.NotReady, wantNotReady)
	}
	if m := string(rr.Metrics()); !strings.Contains(m, "prewarm_success 0\n") {
		t.Errorf("metrics do not say the run failed:\n%s", m)
	}
	// The healthy regions' hosts were done before the hung one was given
	// up on: they did not wait for it.
	mu.Lock()
	defer mu.Unlock()
	firstFailed, lastHealthy := -1, -1
	for i, ev := range events {
		if regionOf[ev.Host] == hung && ev.Phase == "failed" && firstFailed < 0 {
			firstFailed = i
		}
		if regionOf[ev.Host] != hung && (ev.Phase == "present" || ev.Phase == "done") {
			lastHealthy = i
		}
	}
	if firstFailed < 0 || lastHealthy < 0 || lastHealthy > firstFailed {
		t.Errorf("healthy hosts' last event at %d, hung region's first failure at %d: healthy hosts waited for the hung region", lastHealthy, firstFailed)
	}
	if !errors.Is(err, registry.ErrRegionUnreachable) {
		t.Errorf("error %v, want it to wrap registry.ErrRegionUnreachable", err)
	}
}
