package rancher

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// startPipeSim is startSim served over an in-memory pipe, for use inside a
// synctest bubble (fake time: a 5-minute upgrade takes no real time).
func startPipeSim(t *testing.T, simOpts []ranchersim.Option, opts ...Option) *simLab {
	t.Helper()
	pipe := ranchersim.PipeListener()
	s, err := ranchersim.Start(t.Context(), append([]ranchersim.Option{ranchersim.WithListener(pipe)}, simOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	p := s.AddProject("dev", simKeys)
	h := p.AddHost("host1", "10.0.0.1", nil, &simEngine{})
	p.AddHost("host2", "10.0.0.2", nil, &simEngine{})
	rt := &countingTransport{rt: pipe.Client().Transport, n: map[string]int{}}
	c, err := New("http://pipe", simKeys.Access, simKeys.Secret, append([]Option{WithHTTPClient(&http.Client{Transport: rt})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		rt.rt.(*http.Transport).CloseIdleConnections()
		if err := s.Close(); err != nil {
			t.Errorf("sim close: %v", err)
		}
	})
	return &simLab{s: s, p: p, c: c, rt: rt, host: h}
}

// upgradeSlow starts an upgrade of a 2-unit service, one unit per batch,
// interval apart, and returns the service as the upgrade answered.
func (l *simLab) upgradeSlow(t *testing.T, interval time.Duration) *Service {
	t.Helper()
	l.addService(t, "web", "api", "app:1", 2)
	svc, err := l.c.ServiceByPath(t.Context(), l.p.ID(), "web/api")
	if err != nil {
		t.Fatal(err)
	}
	up, err := l.c.Upgrade(t.Context(), svc, UpgradeSpec{Image: "app:2", BatchSize: 1, IntervalMillis: int(interval / time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	l.rt.reset()
	return up
}

// TestWaitForPollBacksOff: with the websocket up, a 5-minute wait re-reads
// the service a handful of times (10s, 20s, 40s, then every minute), not
// every 10s (30 reads) or 5s (60).
func TestWaitForPollBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startPipeSim(t, nil)
		up := l.upgradeSlow(t, 5*time.Minute)
		start := time.Now()
		got, err := l.c.WaitFor(t.Context(), up, StateIs(StateUpgraded))
		if err != nil || got.State != StateUpgraded {
			t.Fatalf("WaitFor = %v, %v", got, err)
		}
		if d := time.Since(start); d < 5*time.Minute || d > 5*time.Minute+10*time.Second {
			t.Errorf("upgraded seen after %v, want just over 5m", d)
		}
		// initial read, re-read on connect, polls at 10, 30, 70, 130, 190,
		// 250 s, the read confirming the event.
		reads := l.rt.get("GET /v2-beta/projects/" + l.p.ID() + "/services/" + up.ID)
		if reads > 10 {
			t.Errorf("%d reads of the service in a 5-minute wait, want at most 10", reads)
		}
		t.Logf("%d reads of the service in a 5-minute wait", reads)
	})
}

// TestWaitForPollCatchesMissedEvent: events that never come (the server
// publishes once an hour) are caught by the fallback poll, within its
// backoff: a 35 s upgrade is seen by the poll at 10+20+40 = 70 s.
func TestWaitForPollCatchesMissedEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startPipeSim(t, []ranchersim.Option{ranchersim.WithEventPeriod(time.Hour)})
		up := l.upgradeSlow(t, 35*time.Second)
		start := time.Now()
		got, err := l.c.WaitFor(t.Context(), up, StateIs(StateUpgraded))
		if err != nil || got.State != StateUpgraded {
			t.Fatalf("WaitFor = %v, %v", got, err)
		}
		if d := time.Since(start); d != 70*time.Second {
			t.Errorf("upgraded seen after %v, want 70s (polls at 10, 30, 70 s)", d)
		}
	})
}

// TestWaitForPollRestartsOnReconnect: while the websocket is down the wait
// polls every second; the reconnect makes it re-read at once and start its
// backoff over (10 s after the reconnect, then 20 s, not a minute).
func TestWaitForPollRestartsOnReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startPipeSim(t, []ranchersim.Option{ranchersim.WithEventPeriod(time.Hour)},
			withStreamTiming(20*time.Second, 10*time.Second, 10*time.Second, 0)) // redial after 5-10 s
		up := l.upgradeSlow(t, 10*time.Minute)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		res := startWait(ctx, l.c, up, StateIs(StateUpgraded))
		reads := func() int { return l.rt.get("GET /v2-beta/projects/" + l.p.ID() + "/services/" + up.ID) }
		dials := func() int { return l.rt.get("GET /v2-beta/projects/" + l.p.ID() + "/subscribe") }
		time.Sleep(3*time.Minute + time.Second) // polls at 10, 30, 70, 130 s: the next is at 190 s
		synctest.Wait()
		if l.s.DropWebsockets() != 1 {
			t.Fatal("no websocket to drop")
		}
		synctest.Wait()
		before := reads()
		time.Sleep(4500 * time.Millisecond)
		synctest.Wait()
		if n := reads() - before; n != 4 || dials() != 1 {
			t.Errorf("%d reads in the 4.5 s after the socket dropped (%d dials), want 4 (every second while down)", n, dials())
		}
		for dials() < 2 {
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		// The reconnect re-read (within the last 100 ms); the next poll is
		// 10 s after it.
		before = reads()
		time.Sleep(9800 * time.Millisecond)
		synctest.Wait()
		if n := reads() - before; n != 0 {
			t.Errorf("%d reads in the 9.8 s after the reconnect's, want none (the next poll is 10 s after it)", n)
		}
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		if n := reads() - before; n != 1 {
			t.Errorf("%d reads 10.1 s after the reconnect's, want 1", n)
		}
		before = reads()
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if n := reads() - before; n != 1 {
			t.Errorf("%d reads in the next 20 s, want 1 (20 s after the last)", n)
		}
		cancel()
		<-res
	})
}
