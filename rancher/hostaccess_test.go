package rancher

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rancher/dockersocket"
)

// hostAccessToken is the token the fake answers; no error may hold it.
const hostAccessToken = "eyJhbGciOiJSUzI1NiJ9.hostaccess-secret-token"

// hostAccessFake serves one host (GET) and its dockersocket action (POST)
// as Cattle does, with the payloads a test gives; "…" in a host payload
// (how the captured fixtures shorten the base URL) becomes the server's URL.
func hostAccessFake(t *testing.T, host, post string, postStatus int) (*Client, *Host, *countingTransport) {
	t.Helper()
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v2-beta/projects/1a361/hosts/1h19/":
			_, _ = io.WriteString(w, strings.ReplaceAll(host, "…", base))
		case r.Method == http.MethodPost && r.URL.Query().Get("action") == "dockersocket":
			w.WriteHeader(postStatus)
			_, _ = io.WriteString(w, post)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	rt := newCounting()
	c, err := New(srv.URL, "AK", "SK-secret", WithHTTPClient(&http.Client{Transport: rt}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	h := &Host{Resource: Resource{ID: "1h19", AccountID: "1a361", Links: map[string]string{"self": srv.URL + "/v2-beta/projects/1a361/hosts/1h19/"}}, Hostname: "dmz-01"}
	return c, h, rt
}

// activeHost is the captured host fragment, connected again: state and
// agentState active, every action offered.
func activeHost(t *testing.T) string {
	h := string(readFixture(t, "host-disconnected-fragment.json"))
	return strings.ReplaceAll(h, `"disconnected"`, `"active"`)
}

const hostAccessAnswer = `{"type":"hostAccess","baseType":"hostAccess","url":"ws://rancher.example:8080/v1/dockersocket/","token":"` + hostAccessToken + `"}`

func TestHostAccess(t *testing.T) {
	t.Parallel()
	withoutAction := func(t *testing.T) string {
		h := activeHost(t)
		i := strings.Index(h, `"dockersocket"`)
		j := i + strings.Index(h[i:], "\n")
		return h[:i] + h[j+1:]
	}
	for _, tc := range []struct {
		name       string
		host       func(t *testing.T) string
		post       string
		postStatus int
		wantErr    error
		wantText   []string // the error says these
		wantPosts  int
	}{
		{name: "active: url and token", host: activeHost, post: hostAccessAnswer, postStatus: 200, wantPosts: 1},
		{name: "inactive: Cattle still offers the action", host: func(t *testing.T) string {
			return strings.Replace(activeHost(t), `"state": "active"`, `"state": "inactive"`, 1)
		}, post: hostAccessAnswer, postStatus: 200, wantPosts: 1},
		{name: "disconnected (captured)", host: func(t *testing.T) string { return string(readFixture(t, "host-disconnected-fragment.json")) },
			wantErr: dockersocket.ErrHostNotActive, wantText: []string{"host dmz-01 is disconnected, agent disconnected"}},
		{name: "agent reconnecting", host: func(t *testing.T) string {
			return strings.Replace(activeHost(t), `"agentState": "active"`, `"agentState": "reconnecting"`, 1)
		}, wantErr: dockersocket.ErrHostNotActive, wantText: []string{"agent reconnecting"}},
		{name: "no action for this key (role without modifyInfra)", host: withoutAction,
			wantErr: dockersocket.ErrActionMissing, wantText: []string{"host dmz-01", "modifyInfra", "environment API key"}},
		{name: "action refused 403", host: activeHost, post: `{"type":"error","status":403,"code":"Forbidden","message":null}`, postStatus: 403,
			wantErr: dockersocket.ErrActionMissing, wantText: []string{"modifyInfra", "403 Forbidden"}, wantPosts: 1},
		{name: "422 InvalidAction", host: activeHost, post: `{"type":"error","status":422,"code":"InvalidAction","message":null}`, postStatus: 422,
			wantErr: dockersocket.ErrActionMissing, wantText: []string{"modifyInfra", "422 InvalidAction"}, wantPosts: 1},
		{name: "422 ActionNotAvailable (captured): the host changed state", host: activeHost,
			post: string(readFixture(t, "error-422-action-not-available.json")), postStatus: 422,
			wantErr: dockersocket.ErrHostNotActive, wantText: []string{"422 ActionNotAvailable"}, wantPosts: 1},
		{name: "an answer without url holds the token", host: activeHost, post: `{"type":"hostAccess","token":"` + hostAccessToken + `"}`, postStatus: 200,
			wantText: []string{"not a hostAccess with url and token"}, wantPosts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h, rt := hostAccessFake(t, tc.host(t), tc.post, tc.postStatus)
			u, tok, err := c.HostAccess(t.Context(), h)
			if got := rt.get("POST /v2-beta/projects/1a361/hosts/1h19/"); got != tc.wantPosts {
				t.Errorf("%d dockersocket POSTs, want %d", got, tc.wantPosts)
			}
			if tc.wantErr == nil && tc.wantText == nil {
				if err != nil || u != "ws://rancher.example:8080/v1/dockersocket/" || tok != hostAccessToken {
					t.Fatalf("HostAccess = %q, %q, %v; want the hostAccess url and token", u, tok, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("HostAccess = %q, %q, nil; want an error", u, tok)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), hostAccessToken) || strings.Contains(err.Error(), "SK-secret") {
				t.Errorf("error %q holds the token or the secret key", err)
			}
		})
	}
}

// TestDockerDialerSkipsHostRead: a host listed with the dockersocket action
// costs one Rancher request per connection (the POST; a fresh action each
// time), not a re-read and a POST; an agent that went away after the
// listing is still named, by a re-read made only when Rancher closes the
// websocket at once.
func TestDockerDialerSkipsHostRead(t *testing.T) {
	t.Parallel()
	l := startSim(t, nil)
	docker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "OK")
	}))
	t.Cleanup(docker.Close)
	l.host.SetDocker(ranchersim.DialTCP(docker.Listener.Addr().String()))
	hosts, err := l.c.Hosts(t.Context(), l.p.ID())
	if err != nil {
		t.Fatal(err)
	}
	var listed *Host
	for i := range hosts {
		if hosts[i].Hostname == "host1" {
			listed = &hosts[i]
		}
	}
	if listed == nil {
		t.Fatalf("host1 not listed: %+v", hosts)
	}
	d := l.c.DockerDialer(listed)
	ping := func() error {
		// A fresh transport per call: one connection, one websocket, each time.
		tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://docker.via-rancher/_ping", nil)
		if err != nil {
			return err
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && string(b) != "OK" {
			err = errors.New("answer " + string(b))
		}
		return err
	}
	l.rt.reset()
	for i := range 2 {
		if err := ping(); err != nil {
			t.Fatalf("ping %d through Rancher: %v", i, err)
		}
	}
	// The websocket handshakes go through the client's own HTTP client
	// (WithHTTPClient: its transport, its dialer), not one per host.
	if posts, gets, upgrades, total := l.rt.get("POST /v2-beta/projects/"+listed.AccountID+"/hosts/"+listed.ID+"/"), l.rt.get("GET /v2-beta/projects/"+listed.AccountID+"/hosts/"+listed.ID), l.rt.get("GET /v1/dockersocket/"), l.rt.get("total"); posts != 2 || gets != 0 || upgrades != 2 || total != 4 {
		t.Errorf("2 connections: %d dockersocket POSTs, %d host reads, %d websocket handshakes, %d requests in all; want 2, 0, 2, 4", posts, gets, upgrades, total)
	}

	if err := l.s.DisconnectAgent("host1", true); err != nil {
		t.Fatal(err)
	}
	err = ping()
	if !errors.Is(err, dockersocket.ErrHostNotActive) || !strings.Contains(err.Error(), "host1 is reconnecting, agent reconnecting") {
		t.Errorf("ping with the agent away: %v; want ErrHostNotActive naming the agent's state", err)
	}
}

// TestDockerDialersShareOneWebsocketClient: every DockerDialer of a client
// opens its websockets with one HTTP client made from the client's
// transport (its TLS settings kept, HTTP/2 off, one TLS session cache), not
// a transport per host; the default transport keeps the connections of
// concurrent dockersocket POSTs.
func TestDockerDialersShareOneWebsocketClient(t *testing.T) {
	t.Parallel()
	c, err := New("https://rancher.example/v2-beta/projects/1a5", "AK", "SK")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	own := c.hc.Transport.(*http.Transport)
	if own.MaxIdleConnsPerHost < 32 {
		t.Errorf("default transport keeps %d idle connections per host; want >= 32 (prewarm's concurrency)", own.MaxIdleConnsPerHost)
	}
	h1 := &Host{Resource: Resource{ID: "1h1", State: StateActive, Actions: map[string]string{"dockersocket": "https://rancher.example/v2-beta/projects/1a5/hosts/1h1/?action=dockersocket"}}, Hostname: "h1"}
	h2 := &Host{Resource: Resource{ID: "1h2", State: StateActive, Actions: map[string]string{"dockersocket": "https://rancher.example/v2-beta/projects/1a5/hosts/1h2/?action=dockersocket"}}, Hostname: "h2"}
	d1, d2 := c.DockerDialer(h1), c.DockerDialer(h2)
	if d1.HTTPClient == nil || d1.HTTPClient != d2.HTTPClient {
		t.Fatalf("dialers of two hosts: websocket clients %p and %p; want one shared", d1.HTTPClient, d2.HTTPClient)
	}
	tr, ok := d1.HTTPClient.Transport.(*http.Transport)
	if !ok || tr == own {
		t.Fatalf("websocket transport %T (the client's own: %v); want a clone of the client's *http.Transport", d1.HTTPClient.Transport, tr == own)
	}
	if tr.ForceAttemptHTTP2 || tr.TLSNextProto == nil || slices.Contains(tr.TLSClientConfig.NextProtos, "h2") {
		t.Errorf("websocket transport may negotiate HTTP/2 (ForceAttemptHTTP2 %v, TLSNextProto nil %v, NextProtos %v)", tr.ForceAttemptHTTP2, tr.TLSNextProto == nil, tr.TLSClientConfig.NextProtos)
	}
	if tr.TLSClientConfig.ClientSessionCache == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("websocket TLS: session cache %v, min version %x; want a cache and the client's settings", tr.TLSClientConfig.ClientSessionCache, tr.TLSClientConfig.MinVersion)
	}
	if own.TLSClientConfig.ClientSessionCache != nil {
		t.Error("making the websocket client changed the client's own TLS settings")
	}
}
