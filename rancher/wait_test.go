package rancher

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type waitResult struct {
	svc *Service
	err error
}

func startWait(ctx context.Context, c *Client, svc *Service, cond Condition) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		s, err := c.WaitFor(ctx, svc, cond)
		ch <- waitResult{s, err}
	}()
	return ch
}

func upgradingFake(t *testing.T, services ...string) (*fake, []*Service) {
	f := newFake(t)
	f.std(services...)
	var out []*Service
	for i := range services {
		id := fmt.Sprintf("1s%d", i+1)
		f.set(id, map[string]any{"state": "upgrading", "transitioning": "yes"}, false)
		out = append(out, &Service{Resource: Resource{ID: id, Type: "service", AccountID: "1a5"}})
	}
	return f, out
}

// fast reconnects for tests.
var fastStream = withStreamTiming(20*time.Second, 5*time.Millisecond, 20*time.Millisecond, 0)

func TestWaitForSeesEvent(t *testing.T) {
	t.Parallel()
	f, svcs := upgradingFake(t, "api")
	c := f.client(t, WithPollInterval(time.Hour), fastStream) // only events can end this wait
	res := startWait(t.Context(), c, svcs[0], StateIs(StateUpgraded))
	// Initial read plus the re-read after the socket connected.
	eventually(t, "subscribed and read twice", func() bool { return f.numSubs() == 1 && f.gets("1s1") >= 2 })
	f.set("1s1", map[string]any{"state": "upgraded", "transitioning": "no", "transitioningMessage": "done"}, true)
	r := <-res
	if r.err != nil || r.svc.State != StateUpgraded || r.svc.TransitioningMessage != "done" {
		t.Fatalf("WaitFor = %+v, %v", r.svc, r.err)
	}
	if got := f.gets("1s1"); got != 3 {
		t.Errorf("%d GETs, want 3 (initial, after connect, confirming the event)", got)
	}
}

func TestWaitForStaleEventIsConfirmed(t *testing.T) {
	t.Parallel()
	f, svcs := upgradingFake(t, "api")
	c := f.client(t, WithPollInterval(time.Hour), fastStream)
	res := startWait(t.Context(), c, svcs[0], StateIs(StateUpgraded))
	eventually(t, "ready", func() bool { return f.numSubs() == 1 && f.gets("1s1") >= 2 })
	// An event claims upgraded, but the server still says upgrading.
	f.publish("1s1", map[string]any{"id": "1s1", "type": "service", "state": "upgraded", "transitioning": "no", "transitioningMessage": "stale"})
	eventually(t, "confirming GET", func() bool { return f.gets("1s1") >= 3 })
	select {
	case r := <-res:
		t.Fatalf("a stale event ended the wait: %+v, %v", r.svc, r.err)
	default:
	}
	f.set("1s1", map[string]any{"state": "upgraded", "transitioning": "no", "transitioningMessage": "real"}, true)
	r := <-res
	if r.err != nil || r.svc.TransitioningMessage != "real" {
		t.Fatalf("WaitFor = %+v, %v: want the server's state", r.svc, r.err)
	}
}

// TestWaitForReconnectRereads: a wait outlives its event stream dropping
// and being refused; the reconnect re-reads the service. The debug log says
// the stream went down and is reconnecting, and shows no key.
func TestWaitForReconnectRereads(t *testing.T) {
	t.Parallel()
	f, svcs := upgradingFake(t, "api")
	var logs syncBuffer
	c := f.client(t, WithPollInterval(time.Hour), fastStream,
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	res := startWait(t.Context(), c, svcs[0], StateIs(StateUpgraded))
	eventually(t, "ready", func() bool { return f.numSubs() == 1 && f.gets("1s1") >= 2 })

	// The socket drops and stays refused for a while; the change happens
	// meanwhile and is never published.
	f.mu.Lock()
	f.refuseWS = true
	f.mu.Unlock()
	f.dropSockets()
	attempts := func() int {
		n := 0
		for _, r := range f.requests() {
			if strings.HasPrefix(r, "GET /v2-beta/projects/1a5/subscribe") {
				n++
			}
		}
		return n
	}
	eventually(t, "two refused reconnects", func() bool { return attempts() >= 3 })
	f.set("1s1", map[string]any{"state": "upgraded", "transitioning": "no"}, false)
	f.mu.Lock()
	f.refuseWS = false
	f.mu.Unlock()
	r := <-res
	if r.err != nil || r.svc.State != StateUpgraded {
		t.Fatalf("WaitFor = %+v, %v", r.svc, r.err)
	}
	if n := f.numConns(); n != 2 {
		t.Errorf("%d websocket connections, want 2", n)
	}
	got := logs.String()
	if !strings.Contains(got, `level=DEBUG msg="rancher: event stream down, reconnecting" project=1a5`) {
		t.Errorf("the debug log does not show the reconnects:\n%s", got)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(f.access + ":" + f.secret))
	for _, secret := range []string{f.secret, auth, "Authorization"} {
		if strings.Contains(got, secret) {
			t.Errorf("the debug log shows %q:\n%s", secret, got)
		}
	}
}

// syncBuffer is a bytes.Buffer for loggers written from the client's
// goroutines while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWaitForSharesOneSocket(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b", "c", "d", "e"}
	f, svcs := upgradingFake(t, names...)
	c := f.client(t, WithPollInterval(time.Hour), fastStream)
	var results []<-chan waitResult
	for _, s := range svcs {
		results = append(results, startWait(t.Context(), c, s, StateIs(StateUpgraded)))
	}
	// A waiter registers before its first read; one that registers after
	// the socket connected gets no connect re-read, so one GET each is the
	// sign that all are listening.
	eventually(t, "all ready", func() bool {
		for _, s := range svcs {
			if f.gets(s.ID) < 1 {
				return false
			}
		}
		return f.numSubs() == 1
	})
	for _, s := range svcs {
		f.set(s.ID, map[string]any{"state": "upgraded", "transitioning": "no"}, true)
	}
	for i, ch := range results {
		if r := <-ch; r.err != nil || r.svc.ID != svcs[i].ID || r.svc.State != StateUpgraded {
			t.Errorf("waiter %d: %+v, %v", i, r.svc, r.err)
		}
	}
	if n := f.numConns(); n != 1 {
		t.Errorf("%d websocket connections for 5 waiters, want 1", n)
	}
}

func TestWaitForPolling(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		failNext []int
		change   map[string]any
		cond     Condition
		wantErr  func(error) bool
		state    string
	}{
		{name: "change seen", change: map[string]any{"state": "upgraded", "transitioning": "no"}, cond: StateIs(StateUpgraded), state: StateUpgraded},
		{name: "5xx and HTML retried", failNext: []int{502, 503, 500}, change: map[string]any{"state": "upgraded", "transitioning": "no"},
			cond: StateIs(StateUpgraded), state: StateUpgraded},
		{name: "transitioning error fails when asked", change: map[string]any{"transitioning": "error", "transitioningMessage": "pull failed"},
			cond: FailOnError(StateIs(StateUpgraded)), wantErr: func(err error) bool {
				var te *TransitionError
				return errors.As(err, &te) && te.Message == "pull failed" && te.State == StateUpgrading
			}},
		{name: "transitioning error ignored otherwise", change: map[string]any{"transitioning": "error", "transitioningMessage": "pull failed"},
			cond: StateIs(StateUpgraded), wantErr: func(err error) bool {
				return errors.Is(err, context.DeadlineExceeded) && strings.Contains(err.Error(), "last seen upgrading (transitioning error pull failed)")
			}},
		{name: "condition error returned", cond: func(*Service) (bool, error) { return false, errSentinel }, wantErr: func(err error) bool { return errors.Is(err, errSentinel) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, svcs := upgradingFake(t, "api")
			f.mu.Lock()
			f.failNext = tc.failNext
			f.mu.Unlock()
			c := f.client(t, WithEventStream(false), WithPollInterval(10*time.Millisecond))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			res := startWait(ctx, c, svcs[0], tc.cond)
			eventually(t, "first read", func() bool { return f.gets("1s1") >= 1 })
			if tc.change != nil {
				f.set("1s1", tc.change, false)
			}
			r := <-res
			if tc.wantErr != nil {
				if !tc.wantErr(r.err) {
					t.Fatalf("WaitFor error = %v", r.err)
				}
				return
			}
			if r.err != nil || r.svc.State != tc.state {
				t.Fatalf("WaitFor = %+v, %v", r.svc, r.err)
			}
			if f.numConns() != 0 {
				t.Error("websocket used with WithEventStream(false)")
			}
		})
	}
}

var errSentinel = errors.New("sentinel")

func TestWaitForPermanentError(t *testing.T) {
	t.Parallel()
	f, _ := upgradingFake(t, "api")
	c := f.client(t, WithPollInterval(10*time.Millisecond))
	gone := &Service{Resource: Resource{ID: "1s99", Name: "gone", Type: "service", AccountID: "1a5"}}
	_, err := c.WaitState(t.Context(), gone, StateActive)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "wait for service gone (1s99)") {
		t.Fatalf("WaitFor of a missing service: %v", err)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	f, svcs := upgradingFake(t, "api")
	c, err := New(f.srv.URL, f.access, f.secret, WithPollInterval(20*time.Millisecond), fastStream)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	res := startWait(ctx, c, svcs[0], StateIs(StateUpgraded))
	eventually(t, "subscribed", func() bool { return f.numSubs() == 1 })
	var wg sync.WaitGroup
	wg.Go(func() { c.Close() })
	wg.Wait()
	eventually(t, "socket closed", func() bool { return f.numSubs() == 0 })
	// The waiter keeps polling after Close.
	f.set("1s1", map[string]any{"state": "upgraded", "transitioning": "no"}, false)
	r := <-res
	cancel()
	if r.err != nil || r.svc.State != StateUpgraded {
		t.Fatalf("WaitFor after Close = %+v, %v", r.svc, r.err)
	}
}
