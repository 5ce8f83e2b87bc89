package ranchersim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testKeys = Keys{Access: "AK", Secret: "SK"}

// fixture is a started server with one project, hosts and an HTTP client.
type fixture struct {
	t      *testing.T
	s      *Server
	p      *Project
	hosts  []*fakeEngine
	client *http.Client
	base   string // http://host/v2-beta/projects/1a5
	wait   time.Duration
}

func newFixture(t *testing.T, nHosts int, opts ...Option) *fixture {
	t.Helper()
	return newFixtureWith(t, nHosts, &http.Client{}, opts...)
}

// newPipeFixture serves over an in-memory pipe, for use inside a synctest bubble.
func newPipeFixture(t *testing.T, nHosts int, opts ...Option) (*fixture, *Pipe) {
	t.Helper()
	pipe := PipeListener()
	f := newFixtureWith(t, nHosts, pipe.Client(), append(opts, WithListener(pipe))...)
	f.wait = time.Hour // fake time inside the bubble
	return f, pipe
}

func newFixtureWith(t *testing.T, nHosts int, client *http.Client, opts ...Option) *fixture {
	t.Helper()
	opts = append([]Option{WithEventPeriod(20 * time.Millisecond), WithRetryDelay(50 * time.Millisecond)}, opts...)
	s, err := Start(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, s: s, client: client, wait: 20 * time.Second}
	t.Cleanup(func() {
		f.client.CloseIdleConnections()
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	f.p = s.AddProject("dev", testKeys)
	for i := range nHosts {
		e := newFakeEngine("h"+string(rune('0'+i)), "app:1.0")
		f.hosts = append(f.hosts, e)
		f.p.AddHost("host"+string(rune('0'+i)), "10.0.0."+string(rune('1'+i)), map[string]string{"zone": string(rune('a' + i))}, e)
	}
	f.base = s.URL() + "/v2-beta/projects/" + f.p.ID()
	return f
}

func (f *fixture) service(stack, name, image string, scale int, opts ...ServiceOption) *Service {
	f.t.Helper()
	svc, err := f.p.AddService(stack, name, image, scale, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.waitState(svc, "active")
	return svc
}

func (f *fixture) waitState(svc *Service, state string) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.t.Context(), f.wait)
	defer cancel()
	if err := svc.WaitState(ctx, state); err != nil {
		f.t.Fatalf("%v (status %+v)", err, svc.Status())
	}
}

// do sends a request with the fixture's keys and decodes a JSON object answer.
func (f *fixture) do(method, url string, body any) (int, map[string]any) {
	f.t.Helper()
	return doReq(f.t, f.client, method, url, body, testKeys)
}

func doReq(t *testing.T, c *http.Client, method, url string, body any, k Keys) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if k.Access != "" {
		req.SetBasicAuth(k.Access, k.Secret)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %d, body not JSON: %q", method, url, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, m
}

func (f *fixture) action(svc *Service, action string, body any) (int, map[string]any) {
	f.t.Helper()
	return f.do(http.MethodPost, f.base+"/services/"+svc.ID()+"/?action="+action, body)
}

func (f *fixture) get(svc *Service) map[string]any {
	f.t.Helper()
	code, m := f.do(http.MethodGet, f.base+"/services/"+svc.ID(), nil)
	if code != http.StatusOK {
		f.t.Fatalf("GET service: %d %v", code, m)
	}
	return m
}

// upgradeBody copies the service's current launchConfig and changes only the image.
func upgradeBody(res map[string]any, image string, batch, intervalMs int, startFirst bool) map[string]any {
	lc := res["launchConfig"].(map[string]any)
	lc["imageUuid"] = "docker:" + image
	return map[string]any{"inServiceStrategy": map[string]any{
		"batchSize": batch, "intervalMillis": intervalMs, "startFirst": startFirst, "launchConfig": lc}}
}

// waitFor polls cond until it holds (20 s deadline).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met before the deadline")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
