package rancher

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// runningOn counts the running instances on image.
func runningOn(is []Instance, image string) int {
	n := 0
	for _, in := range is {
		if in.State == "running" && in.ImageUUID == image {
			n++
		}
	}
	return n
}

// TestInstanceWatch: a service tracked before its upgrade is sent sees
// every new container from the event stream, with no listing; after a
// reconnect the view is incomplete until listed again, and a listing is
// the base for the events that follow it.
func TestInstanceWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startPipeSim(t, nil, withStreamTiming(20*time.Second, time.Second, time.Second, 0))
		l.addService(t, "web", "api", "app:1", 2)
		ctx := t.Context()
		svc, err := l.c.ServiceByPath(ctx, l.p.ID(), "web/api")
		if err != nil {
			t.Fatal(err)
		}
		iw := l.c.WatchInstances(l.p.ID())
		defer iw.Close()
		if _, ok := iw.Instances(svc.ID); ok {
			t.Fatal("an untracked service's view is complete")
		}
		iw.Track(ctx, svc.ID) // waits for the websocket
		l.rt.reset()
		up, err := l.c.Upgrade(ctx, svc, UpgradeSpec{Image: "app:2", BatchSize: 1, IntervalMillis: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second) // the first batch is done, the second 10 s later
		synctest.Wait()
		is, ok := iw.Instances(svc.ID)
		if n := runningOn(is, "docker:app:2"); !ok || n != 1 {
			t.Errorf("mid-upgrade: %d new running (complete %v), want 1 of %d instances", n, ok, len(is))
		}
		if _, err := l.c.WaitState(ctx, up, StateUpgraded); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // the server publishes once a second
		synctest.Wait()
		is, ok = iw.Instances(svc.ID)
		if n := runningOn(is, "docker:app:2"); !ok || n != 2 {
			t.Errorf("upgraded: %d new running (complete %v), want 2", n, ok)
		}
		if old := runningOn(is, "docker:app:1"); old != 0 {
			t.Errorf("upgraded: %d old containers seen running, want 0 (stopped)", old)
		}
		if n := l.rt.get("GET /v2-beta/projects/" + l.p.ID() + "/services/" + svc.ID + "/instances"); n != 0 {
			t.Errorf("%d listings of the instances, want none", n)
		}

		// Dropped: events may have been missed, the view is not complete
		// even once reconnected; a listing makes it so again.
		l.s.DropWebsockets()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if _, ok := iw.Instances(svc.ID); ok {
			t.Error("complete after a reconnect, without a listing")
		}
		is, err = iw.List(ctx, up)
		if err != nil {
			t.Fatal(err)
		}
		if n := runningOn(is, "docker:app:2"); n != 2 || len(is) != 4 {
			t.Errorf("listed: %d new running of %d, want 2 of 4 (old ones stopped, not removed)", n, len(is))
		}
		if _, ok := iw.Instances(svc.ID); !ok {
			t.Error("not complete after a listing with the stream up")
		}
		iw.Untrack(svc.ID)
		if _, ok := iw.Instances(svc.ID); ok {
			t.Error("complete after Untrack")
		}
	})
}

// TestInstanceWatchNoEvents: without the event stream no view is ever
// complete (the caller lists), and Track does not wait.
func TestInstanceWatchNoEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startPipeSim(t, []ranchersim.Option{}, WithEventStream(false))
		l.addService(t, "web", "api", "app:1", 1)
		svc, err := l.c.ServiceByPath(t.Context(), l.p.ID(), "web/api")
		if err != nil {
			t.Fatal(err)
		}
		iw := l.c.WatchInstances(l.p.ID())
		defer iw.Close()
		iw.Track(t.Context(), svc.ID)
		if _, ok := iw.Instances(svc.ID); ok {
			t.Error("complete without an event stream")
		}
		if is, err := iw.List(t.Context(), svc); err != nil || len(is) != 1 {
			t.Fatalf("List = %d, %v", len(is), err)
		}
		if _, ok := iw.Instances(svc.ID); ok {
			t.Error("complete without an event stream, after a listing")
		}
	})
}
