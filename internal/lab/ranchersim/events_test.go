package ranchersim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
)

func authHeader(k Keys) http.Header {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://x", nil)
	req.SetBasicAuth(k.Access, k.Secret)
	return http.Header{"Authorization": req.Header["Authorization"]}
}

type wsEvent struct {
	raw  map[string]any
	at   time.Time
	name string
}

// subscribeTo dials the subscribe websocket and streams decoded events until the
// connection ends.
func subscribeTo(t *testing.T, ctx context.Context, f *fixture, query string) (<-chan wsEvent, *websocket.Conn) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(f.base, "http") + "/subscribe?" + query
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: f.client, HTTPHeader: authHeader(testKeys)}) //nolint:bodyclose // Dial owns the handshake response
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("status %d, want 101", resp.StatusCode)
	}
	ch := make(chan wsEvent, 1024)
	go func() {
		defer close(ch)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("event not JSON: %q", b)
				return
			}
			name, _ := m["name"].(string)
			ch <- wsEvent{raw: m, at: time.Now(), name: name}
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return ch, c
}

func TestSubscribePingAndAuth(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1)
		// No key: refused before the upgrade.
		_, resp, err := websocket.Dial(t.Context(), "ws://pipe/v2-beta/projects/1a5/subscribe?eventNames=resource.change", //nolint:bodyclose // Dial owns the handshake response
			&websocket.DialOptions{HTTPClient: f.client})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unauthenticated subscribe: %v %v", err, resp)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		start := time.Now()
		events, conn := subscribeTo(t, ctx, f, "eventNames=resource.change")
		want := readFixture(t, "event-resource-change-nodata.json")
		for i := range 3 {
			ev := <-events
			if ev.name != "ping" {
				t.Fatalf("event %d: %v, want ping", i, ev.raw)
			}
			if got := ev.at.Sub(start); got != time.Duration(i)*5*time.Second {
				t.Errorf("ping %d at %v, want %v", i, got, time.Duration(i)*5*time.Second)
			}
			if keys(ev.raw) != keys(want) {
				t.Errorf("ping keys %s, want %s", keys(ev.raw), keys(want))
			}
		}
		conn.CloseNow()
		for range events {
		}
	})
}

// The event stream of an upgrade then finish: each resource.change carries the full
// service; the service passes upgrading -> upgraded -> finishing-upgrade -> active.
func TestUpgradeEventOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1, WithEventPeriod(50*time.Millisecond))
		f.hosts[0].opTime = 200 * time.Millisecond
		f.hosts[0].images["app:1.1"] = true
		svc := f.service("web", "app", "app:1.0", 2)
		time.Sleep(time.Second) // let activation events drain
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		events, conn := subscribeTo(t, ctx, f, "eventNames=resource.change")
		if ev := <-events; ev.name != "ping" {
			t.Fatalf("first event %v", ev.raw)
		}
		want := readFixture(t, "event-resource-change-nodata.json")
		var states []string
		var svcKeys string
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range events {
				if ev.name != "resource.change" {
					continue
				}
				if keys(ev.raw) != keys(want) {
					t.Errorf("event keys %s, want %s", keys(ev.raw), keys(want))
				}
				if ev.raw["resourceType"] != "service" || ev.raw["resourceId"] != svc.ID() {
					continue
				}
				res := ev.raw["data"].(map[string]any)["resource"].(map[string]any)
				if res["id"] != svc.ID() {
					t.Errorf("resource id %v", res["id"])
				}
				svcKeys = keys(res)
				st := res["state"].(string)
				if len(states) == 0 || states[len(states)-1] != st {
					states = append(states, st)
				}
				if st == "active" && len(states) > 1 {
					return
				}
			}
		}()
		f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:1.1", 1, 1000, false))
		f.waitState(svc, "upgraded")
		time.Sleep(100 * time.Millisecond)
		f.action(svc, "finishupgrade", nil)
		f.waitState(svc, "active")
		<-done
		conn.CloseNow()
		for range events {
		}
		if got := strings.Join(states, " "); got != "upgrading upgraded finishing-upgrade active" {
			t.Errorf("service states %q", got)
		}
		if svcKeys != keys(f.get(svc)) {
			t.Errorf("event resource keys %s differ from GET", svcKeys)
		}
	})
}

// Changes within one period are merged: one event per resource per publish.
func TestEventsMergedPerResource(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1, WithEventPeriod(time.Second))
		svc := f.service("web", "app", "app:1.0", 1)
		time.Sleep(2 * time.Second)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		events, conn := subscribeTo(t, ctx, f, "eventNames=resource.change")
		<-events // ping
		// Several state changes inside one second: deactivate then activate.
		f.action(svc, "deactivate", nil)
		f.waitState(svc, "inactive")
		f.action(svc, "activate", nil)
		f.waitState(svc, "active")
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		conn.CloseNow()
		n := 0
		for ev := range events {
			if ev.name == "resource.change" && ev.raw["resourceId"] == svc.ID() {
				n++
				if st := ev.raw["data"].(map[string]any)["resource"].(map[string]any)["state"]; st != "active" {
					t.Errorf("merged event state %v, want active", st)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d events for the service, want 1 merged", n)
		}
	})
}

func TestDropWebsockets(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		events, _ := subscribeTo(t, ctx, f, "eventNames=resource.change")
		<-events
		f.s.DropWebsockets()
		for range events {
		}
		// Reconnecting works and starts with a ping.
		events2, conn2 := subscribeTo(t, ctx, f, "eventNames=resource.change")
		if ev := <-events2; ev.name != "ping" {
			t.Errorf("after reconnect: %v", ev.raw)
		}
		conn2.CloseNow()
		for range events2 {
		}
	})
}

func TestSubscriptionLifetime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 1, WithSubscriptionLifetime(time.Minute), WithPingPeriod(25*time.Second))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		start := time.Now()
		events, _ := subscribeTo(t, ctx, f, "eventNames=resource.change")
		pings := 0
		for ev := range events {
			if ev.name == "ping" {
				pings++
			}
		}
		if d := time.Since(start); d != time.Minute || pings != 3 {
			t.Errorf("subscription ended after %v with %d pings, want 1m and 3 (0, 25, 50 s)", d, pings)
		}
	})
}
