package adapt_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// simEngine is a ranchersim.Engine whose containers always start.
type simEngine struct {
	mu sync.Mutex
	n  int
}

func (e *simEngine) EnsureImage(context.Context, string, bool) error { return nil }
func (e *simEngine) CreateContainer(string, string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	return fmt.Sprint("c", e.n), nil
}
func (e *simEngine) StartContainer(string) error  { return nil }
func (e *simEngine) StopContainer(string) error   { return nil }
func (e *simEngine) RemoveContainer(string) error { return nil }

// requests records "METHOD path?query" of every request a client made.
type requests struct {
	mu  sync.Mutex
	all []string
	rt  http.RoundTripper
}

func (r *requests) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.all = append(r.all, req.Method+" "+req.URL.RequestURI())
	r.mu.Unlock()
	return r.rt.RoundTrip(req)
}

// take returns the requests made since the last take.
func (r *requests) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.all
	r.all = nil
	return out
}

// TestRancherProjectReadsOnce: an upgrade's finish posts to the link of the
// state the engine last read (no re-read first), and a wait that the read
// just made already meets (healthy, right after the wait that saw upgraded)
// ends without a request; an action's answer never ends a wait.
func TestRancherProjectReadsOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	srv, err := ranchersim.Start(ctx, ranchersim.WithEventPeriod(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dev := srv.AddProject("dev", ranchersim.Keys{Access: "AK", Secret: "SK"})
	dev.AddHost("host1", "10.0.0.1", nil, &simEngine{})
	svc, err := dev.AddService("web", "frontend", "registry.local/app:1.0", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.WaitState(ctx, "active"); err != nil {
		t.Fatal(err)
	}
	reqs := &requests{rt: http.DefaultTransport.(*http.Transport).Clone()}
	c, err := rancher.New(srv.URL(), "AK", "SK", rancher.WithHTTPClient(&http.Client{Transport: reqs}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r, err := adapt.NewRancherProject(ctx, c, "dev")
	if err != nil {
		t.Fatal(err)
	}
	id := svc.ID()
	if _, err := r.Upgrade(ctx, id, rollout.Upgrade{Image: "registry.local/app:1.1", Strategy: rollout.Strategy{BatchSize: 1, IntervalMillis: 100}}); err != nil {
		t.Fatal(err)
	}
	if x, err := r.Wait(ctx, id, func(x rollout.Service) bool { return x.State == rollout.StateUpgraded && !x.Busy() }); err != nil {
		t.Fatalf("wait for upgraded: %v (last %s)", err, x.State)
	}
	reqs.take()

	x, err := r.Wait(ctx, id, func(x rollout.Service) bool {
		return x.HealthState == rollout.HealthHealthy || x.State != rollout.StateUpgraded
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := reqs.take(); len(got) != 0 || x.State != rollout.StateUpgraded {
		t.Errorf("wait met by the read just made: state %s, requests %q, want upgraded and none", x.State, got)
	}

	if _, err := r.FinishUpgrade(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := reqs.take(); len(got) != 1 || got[0] != "POST /v2-beta/projects/"+dev.ID()+"/services/"+id+"/?action=finishupgrade" {
		t.Errorf("finish: requests %q, want only its POST", got)
	}

	// An action's answer is no read: the wait asks the server.
	if _, err := r.Wait(ctx, id, func(rollout.Service) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if got := reqs.take(); len(got) == 0 {
		t.Errorf("wait after an action made no request")
	}
}

// TestRancherProjectCountsBatchesFromEvents: the batch column's count
// (NewUnits) comes from the instance changes on the event stream, with no
// listing of the service's instances; with the stream off it is listed.
func TestRancherProjectCountsBatchesFromEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		events   bool
		listings bool
	}{
		{"events", true, false},
		{"no events", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			srv, err := ranchersim.Start(ctx, ranchersim.WithEventPeriod(20*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			dev := srv.AddProject("dev", ranchersim.Keys{Access: "AK", Secret: "SK"})
			dev.AddHost("host1", "10.0.0.1", nil, &simEngine{})
			dev.AddHost("host2", "10.0.0.2", nil, &simEngine{})
			svc, err := dev.AddService("web", "frontend", "registry.local/app:1.0", 2)
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.WaitState(ctx, "active"); err != nil {
				t.Fatal(err)
			}
			reqs := &requests{rt: http.DefaultTransport.(*http.Transport).Clone()}
			c, err := rancher.New(srv.URL(), "AK", "SK", rancher.WithHTTPClient(&http.Client{Transport: reqs}),
				rancher.WithEventStream(tc.events), rancher.WithPollInterval(50*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			r, err := adapt.NewRancherProject(ctx, c, "dev")
			if err != nil {
				t.Fatal(err)
			}
			id := svc.ID()
			if _, err := r.Upgrade(ctx, id, rollout.Upgrade{Image: "registry.local/app:1.1", Strategy: rollout.Strategy{BatchSize: 1, IntervalMillis: 500}}); err != nil {
				t.Fatal(err)
			}
			var seen []int
			x, err := r.Wait(ctx, id, func(x rollout.Service) bool {
				if len(seen) == 0 || seen[len(seen)-1] != x.NewUnits {
					seen = append(seen, x.NewUnits)
				}
				return x.State == rollout.StateUpgraded && !x.Busy()
			})
			if err != nil {
				t.Fatal(err)
			}
			// The second unit's container may be published just after the
			// service's upgraded state: 1 or 2 at the end.
			if x.NewUnits < 1 || !slices.Contains(seen, 1) {
				t.Errorf("counts seen %v, at upgraded %d: want the first batch's 1 among them", seen, x.NewUnits)
			}
			listings := 0
			for _, q := range reqs.take() {
				if strings.Contains(q, "/instances") {
					listings++
				}
			}
			if (listings > 0) != tc.listings {
				t.Errorf("%d listings of the service's instances, want some: %v", listings, tc.listings)
			}
		})
	}
}
