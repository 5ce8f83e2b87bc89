package rancher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// simEngine is a Docker host for the simulator that does nothing but keep ids.
type simEngine struct{ n atomic.Int64 }

func (e *simEngine) EnsureImage(context.Context, string, bool) error { return nil }
func (e *simEngine) CreateContainer(name, ref string) (string, error) {
	return fmt.Sprintf("c%d", e.n.Add(1)), nil
}
func (e *simEngine) StartContainer(string) error  { return nil }
func (e *simEngine) StopContainer(string) error   { return nil }
func (e *simEngine) RemoveContainer(string) error { return nil }

// countingTransport counts requests by method and path (a websocket
// handshake is one GET).
type countingTransport struct {
	rt http.RoundTripper
	mu sync.Mutex
	n  map[string]int
}

func newCounting() *countingTransport {
	return &countingTransport{rt: http.DefaultTransport.(*http.Transport).Clone(), n: map[string]int{}}
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.Method+" "+r.URL.Path]++
	c.n["total"]++
	c.mu.Unlock()
	return c.rt.RoundTrip(r)
}

func (c *countingTransport) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *countingTransport) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.n)
}

var simKeys = ranchersim.Keys{Access: "AKSIM", Secret: "SKSIM-secret"}

type simLab struct {
	s    *ranchersim.Server
	p    *ranchersim.Project
	c    *Client
	rt   *countingTransport
	host *ranchersim.Host
}

func startSim(t testing.TB, simOpts []ranchersim.Option, opts ...Option) *simLab {
	t.Helper()
	s, err := ranchersim.Start(t.Context(), simOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("sim close: %v", err)
		}
	})
	p := s.AddProject("dev", simKeys)
	h := p.AddHost("host1", "10.0.0.1", map[string]string{"zone": "a"}, &simEngine{})
	p.AddHost("host2", "10.0.0.2", map[string]string{"zone": "b"}, &simEngine{})
	rt := newCounting()
	c, err := New(s.URL(), simKeys.Access, simKeys.Secret, append([]Option{WithHTTPClient(&http.Client{Transport: rt})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		rt.rt.(*http.Transport).CloseIdleConnections()
	})
	return &simLab{s: s, p: p, c: c, rt: rt, host: h}
}

func (l *simLab) addService(t testing.TB, stack, name, image string, scale int, opts ...ranchersim.ServiceOption) *ranchersim.Service {
	t.Helper()
	svc, err := l.p.AddService(stack, name, image, scale, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := svc.WaitState(ctx, "active"); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestSimulatorUpgradeFinishRollback(t *testing.T) {
	t.Parallel()
	l := startSim(t, []ranchersim.Option{ranchersim.WithEventPeriod(50 * time.Millisecond), ranchersim.WithRetryDelay(50 * time.Millisecond)},
		WithPollInterval(time.Hour)) // events and re-reads only: a missed event would hang until the deadline
	simSvc := l.addService(t, "web", "frontend", "app:1", 2,
		ranchersim.WithSidekick("logger", "log:1"),
		ranchersim.WithLaunchConfigField("zzUnknown", map[string]any{"nested": []any{1, "x", nil}}),
		ranchersim.WithLaunchConfigField("memoryReservation", 12345))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := l.c

	if s, err := c.Discover(ctx); err != nil || s == "" {
		t.Fatalf("Discover = %q, %v", s, err)
	}
	proj, err := c.Project(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := c.Project(ctx, proj.ID); err != nil || p2.Name != "dev" {
		t.Fatalf("Project(%s) = %v, %v", proj.ID, p2, err)
	}
	svc, err := c.ServiceByPath(ctx, proj.ID, "web/frontend")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(svc.LaunchConfig)
	beforeSide, _ := json.Marshal(svc.Sidekick("logger"))
	if svc.Image() != "app:1" || svc.State != StateActive || svc.Sidekick("logger") == nil {
		t.Fatalf("service = %s %s", svc.Image(), svc.State)
	}
	ins, err := c.Instances(ctx, svc)
	if err != nil || len(ins) != 4 { // 2 units x (primary + sidekick)
		t.Fatalf("Instances = %d, %v", len(ins), err)
	}

	// Upgrade: the launch config the server now holds is ours, equal to the
	// old one except the image.
	up, err := c.Upgrade(ctx, svc, UpgradeSpec{Image: "app:2", Sidekicks: map[string]string{"logger": "log:2"}, BatchSize: 1, IntervalMillis: 100})
	if err != nil {
		t.Fatal(err)
	}
	if up.State != StateUpgrading {
		t.Errorf("202 answer state %s", up.State)
	}
	simAt := make(chan time.Time, 1)
	go func() {
		if err := simSvc.WaitState(ctx, "upgraded"); err != nil {
			t.Error(err)
		}
		simAt <- time.Now()
	}()
	upgraded, err := c.WaitFor(ctx, up, FailOnError(StateIs(StateUpgraded)))
	if err != nil {
		t.Fatal(err)
	}
	// Polling is off (1 h): the change came through an event, within the
	// simulator's 50 ms publish period plus the client's overhead.
	if lat := time.Since(<-simAt); lat > 500*time.Millisecond {
		t.Errorf("upgraded seen %v after it happened", lat)
	} else {
		t.Logf("upgraded seen %v after it happened (event merge period 50ms)", lat)
	}
	after, _ := json.Marshal(upgraded.LaunchConfig)
	sameExceptVersionAndImage(t, "launchConfig", before, after, "docker:app:2")
	afterSide, _ := json.Marshal(upgraded.Sidekick("logger"))
	sameExceptVersionAndImage(t, "sidekick", beforeSide, afterSide, "docker:log:2")
	prev := upgraded.Upgrade.InServiceStrategy.PreviousLaunchConfig
	if prev.Image() != "app:1" {
		t.Errorf("previousLaunchConfig image = %q", prev.Image())
	}

	// 422 twice: refused locally from a fresh read, and from the server for
	// a stale copy that still lists upgrade.
	var ae *ActionError
	if _, err := c.Upgrade(ctx, upgraded, UpgradeSpec{Image: "app:3"}); !errors.As(err, &ae) || ae.State != StateUpgraded {
		t.Errorf("Upgrade of upgraded: %v, want *ActionError", err)
	}
	body, _ := UpgradeBody(svc, UpgradeSpec{Image: "app:3"})
	err = c.Action(ctx, &svc.Resource, "upgrade", body, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 422 || apiErr.Code != "ActionNotAvailable" || !IsActionNotAvailable(err) {
		t.Errorf("server's 422 = %#v", err)
	}

	fin, err := c.FinishUpgrade(ctx, upgraded)
	if err != nil {
		t.Fatal(err)
	}
	active, err := c.WaitState(ctx, fin, StateActive)
	if err != nil || active.Image() != "app:2" || active.HealthState != "healthy" {
		t.Fatalf("after finish: %v %v %v", active.Image(), active.HealthState, err)
	}
	if ins, _ := c.Instances(ctx, active); len(ins) != 4 {
		t.Errorf("%d instances after finish, want the 4 new ones", len(ins))
	}

	// Upgrade again, then roll back.
	up, err = c.Upgrade(ctx, active, UpgradeSpec{Image: "app:3", BatchSize: 2, IntervalMillis: 100, StartFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	upgraded, err = c.WaitState(ctx, up, StateUpgraded)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := c.Rollback(ctx, upgraded)
	if err != nil {
		t.Fatal(err)
	}
	back, err := c.WaitState(ctx, rb, StateActive)
	if err != nil || back.Image() != "app:2" {
		t.Fatalf("after rollback: %q %v", back.Image(), err)
	}
}

// sameExceptVersionAndImage compares two launch configs; the server gives
// each upgrade a fresh "version".
func sameExceptVersionAndImage(t *testing.T, what string, before, after []byte, image string) {
	t.Helper()
	var b, a map[string]json.RawMessage
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	if len(b) < 3 || len(a) != len(b) {
		t.Errorf("%s: %d keys before, %d after", what, len(b), len(a))
	}
	for k, v := range b {
		switch k {
		case "version":
			continue
		case "imageUuid":
			if string(a[k]) != `"`+image+`"` {
				t.Errorf("%s: imageUuid %s, want %s", what, a[k], image)
			}
		default:
			if !jsonEqual(t, v, a[k]) {
				t.Errorf("%s: %s = %s, was %s", what, k, a[k], v)
			}
		}
	}
}

func TestSimulatorPaginationAndHosts(t *testing.T) {
	t.Parallel()
	l := startSim(t, nil)
	for i := range 250 {
		if _, err := l.p.AddService("many", fmt.Sprintf("s%03d", i), "app:1", 0); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	p, err := l.c.Project(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	l.rt.reset()
	svcs, err := l.c.Services(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range svcs {
		seen[s.Name] = true
	}
	if len(svcs) != 250 || len(seen) != 250 {
		t.Fatalf("%d services (%d distinct names), want 250", len(svcs), len(seen))
	}
	if n := l.rt.get("total"); n != 3 {
		t.Errorf("%d requests for 250 services, want 3 pages of 100", n)
	}
	if s, err := l.c.ServiceByPath(ctx, p.ID, "many/s249"); err != nil || s.Name != "s249" {
		t.Errorf("ServiceByPath(many/s249) = %v, %v", s, err)
	}

	if err := l.p.SetHostState("host2", "active", "disconnected"); err != nil {
		t.Fatal(err)
	}
	hosts, err := l.c.Hosts(ctx, p.ID)
	if err != nil || len(hosts) != 2 {
		t.Fatalf("Hosts = %v, %v", hosts, err)
	}
	for _, h := range hosts {
		want := h.Hostname == "host1"
		if h.Active() != want || (h.Hostname == "host2" && h.State != "disconnected") {
			t.Errorf("host %s state %s agentState %s: Active() = %v", h.Hostname, h.State, h.AgentState, h.Active())
		}
	}
	if h := hosts[0]; h.AgentIPAddress == "" || h.Labels["zone"] == "" {
		t.Errorf("host fields: %+v", h)
	}
	if _, err := l.c.Project(ctx, "nope"); !IsNotFound(err) {
		t.Errorf("Project(nope): %v", err)
	}
	other, _ := New(l.s.URL(), "AKSIM", "wrong")
	if _, err := other.Project(ctx, "dev"); !IsAuth(err) {
		t.Errorf("wrong secret: %v, want ErrAuth", err)
	}
}

// TestSimulatorWaitSurvivesFaults drops the websocket and fails requests
// with 502 while a wait is under way.
func TestSimulatorWaitSurvivesFaults(t *testing.T) {
	t.Parallel()
	l := startSim(t, []ranchersim.Option{ranchersim.WithEventPeriod(50 * time.Millisecond)},
		withStreamTiming(20*time.Second, 10*time.Millisecond, 50*time.Millisecond, 0), WithPollInterval(time.Hour))
	l.addService(t, "web", "api", "app:1", 2)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	svc, err := l.c.ServiceByPath(ctx, l.p.ID(), "web/api")
	if err != nil {
		t.Fatal(err)
	}
	// Two units, one per batch, 2 s apart: the faults land mid-upgrade.
	up, err := l.c.Upgrade(ctx, svc, UpgradeSpec{Image: "app:2", IntervalMillis: 2000})
	if err != nil {
		t.Fatal(err)
	}
	res := startWait(ctx, l.c, up, StateIs(StateUpgraded))
	eventually(t, "websocket up", func() bool { return l.rt.get("GET /v2-beta/projects/"+l.p.ID()+"/subscribe") == 1 })
	l.s.FailRequests(3, http.StatusBadGateway) // the re-read and the redial meet 502s
	// The client's dial is counted before the server registers the socket.
	eventually(t, "websocket dropped", func() bool { return l.s.DropWebsockets() > 0 })
	r := <-res
	if r.err != nil || r.svc.State != StateUpgraded {
		t.Fatalf("WaitFor through faults = %+v, %v", r.svc, r.err)
	}
	if n := l.rt.get("GET /v2-beta/projects/" + l.p.ID() + "/subscribe"); n < 2 {
		t.Errorf("%d websocket dials, want a reconnect", n)
	}
}
