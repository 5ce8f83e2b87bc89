package ranchersim_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// postAction POSTs a host action with keys and decodes the answer.
func postAction(t *testing.T, s *ranchersim.Server, p *ranchersim.Project, h *ranchersim.Host, k ranchersim.Keys, action string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		s.URL()+"/v2-beta/projects/"+p.ID()+"/hosts/"+h.ID()+"/?action="+action, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(k.Access, k.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

func relayRig(t *testing.T) (*ranchersim.Server, *ranchersim.Project, *ranchersim.Host) {
	t.Helper()
	dh, err := dockersim.Start(t.Context(), dockersim.WithName("h1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dh.Close() })
	s, err := ranchersim.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p := s.AddProject("dmz", ranchersim.Keys{Access: "a", Secret: "s"})
	h := p.AddHost("h1", "10.0.0.1", nil, dh)
	h.SetDocker(ranchersim.DialTCP(dh.Addr()))
	return s, p, h
}

// TestDockerSocketRelayFraming: the action answers a hostAccess; the relay
// speaks the agent's framing (TEXT frames of base64, at most 1024 raw bytes
// each); a token opens one websocket only; a bad token is refused with 401.
func TestDockerSocketRelayFraming(t *testing.T) {
	t.Parallel()
	s, p, h := relayRig(t)
	code, ha := postAction(t, s, p, h, ranchersim.Keys{Access: "a", Secret: "s"}, "dockersocket")
	url, _ := ha["url"].(string)
	token, _ := ha["token"].(string)
	if code != http.StatusOK || ha["type"] != "hostAccess" || url != "ws"+strings.TrimPrefix(s.URL(), "http")+"/v1/dockersocket/" || token == "" {
		t.Fatalf("dockersocket: %d %v", code, ha)
	}
	ctx := t.Context()
	c, _, err := websocket.Dial(ctx, url+"?token="+token, nil) //nolint:bodyclose // coder/websocket: never needs closing
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	req := "GET /info HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
	if err := c.Write(ctx, websocket.MessageText, []byte(base64.StdEncoding.EncodeToString([]byte(req)))); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	frames := 0
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("relay ended with %v, want a normal closure after dockerd closed", err)
			}
			break
		}
		b, derr := base64.StdEncoding.DecodeString(string(msg))
		if typ != websocket.MessageText || derr != nil || len(b) > 1024 || len(b) == 0 {
			t.Fatalf("frame %d: type %v, %d bytes, decode error %v; want TEXT base64 of 1..1024 bytes", frames, typ, len(b), derr)
		}
		frames++
		got.Write(b)
	}
	if !strings.HasPrefix(got.String(), "HTTP/1.1 200 OK") || frames < 1 {
		t.Errorf("relayed %d frames: %.40q; want dockerd's /info", frames, got.String())
	}
	for _, tok := range []string{token, "not-a-token"} {
		_, resp, err := websocket.Dial(ctx, url+"?token="+tok, nil) //nolint:bodyclose // coder/websocket: never needs closing
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %.8s...: %v, want 401 (used or unknown token)", tok, err)
		}
	}
}

// TestDockerSocketAction: Cattle's answers for keys without modifyInfra, host
// states and the refusal fault.
func TestDockerSocketAction(t *testing.T) {
	t.Parallel()
	s, p, h := relayRig(t)
	env := ranchersim.Keys{Access: "a", Secret: "s"}
	ro := ranchersim.Keys{Access: "r", Secret: "rs"}
	if err := p.AddKeys(ro, "restricted"); err != nil {
		t.Fatal(err)
	}
	if err := p.AddKeys(ro, "janitor"); err == nil {
		t.Error("AddKeys with an unknown role succeeded")
	}
	if code, body := postAction(t, s, p, h, ro, "dockersocket"); code != 422 || body["code"] != "InvalidAction" {
		t.Errorf("restricted key: %d %v, want 422 InvalidAction", code, body)
	}
	for _, st := range []string{"activating", "inactive"} {
		h.SetState(st, "")
		if code, body := postAction(t, s, p, h, env, "dockersocket"); code != 200 {
			t.Errorf("host %s: %d %v, want a hostAccess", st, code, body)
		}
	}
	h.SetState("removing", "")
	if code, body := postAction(t, s, p, h, env, "dockersocket"); code != 422 || body["code"] != "ActionNotAvailable" {
		t.Errorf("host removing: %d %v, want 422 ActionNotAvailable", code, body)
	}
	h.SetState("active", "")
	s.RefuseDockerSocket(http.StatusForbidden)
	if code, body := postAction(t, s, p, h, env, "dockersocket"); code != 403 || body["code"] != "Forbidden" {
		t.Errorf("refused: %d %v, want 403 Forbidden", code, body)
	}
	s.RefuseDockerSocket(0)
	if code, _ := postAction(t, s, p, h, env, "dockersocket"); code != 200 {
		t.Errorf("after the refusal was cleared: %d", code)
	}
}

// TestDockerSocketAgentDisconnected: with the agent away the websocket opens
// and closes at once, and a live relay is cut.
func TestDockerSocketAgentDisconnected(t *testing.T) {
	t.Parallel()
	s, p, h := relayRig(t)
	env := ranchersim.Keys{Access: "a", Secret: "s"}
	open := func() *websocket.Conn {
		_, ha := postAction(t, s, p, h, env, "dockersocket")
		c, _, err := websocket.Dial(t.Context(), ha["url"].(string)+"?token="+ha["token"].(string), nil) //nolint:bodyclose // coder/websocket: never needs closing
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	live := open()
	if err := s.DisconnectAgent("h1", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := live.Read(t.Context()); err == nil {
		t.Error("a live relay survived the agent's disconnection")
	}
	if _, _, err := open().Read(context.WithoutCancel(t.Context())); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("new websocket with the agent away: %v, want closed at once", err)
	}
	if err := s.DisconnectAgent("nope", true); err == nil {
		t.Error("DisconnectAgent of an unknown host succeeded")
	}
}

// TestDockerSocketRelayChunks: what dockerd writes at once is sent in frames
// of at most 1024 bytes, in order.
func TestDockerSocketRelayChunks(t *testing.T) {
	t.Parallel()
	s, p, h := relayRig(t)
	want := strings.Repeat("0123456789", 500)
	h.SetDocker(func(context.Context) (net.Conn, error) {
		a, b := net.Pipe()
		go func() {
			_, _ = b.Write([]byte(want))
			b.Close()
		}()
		return a, nil
	})
	_, ha := postAction(t, s, p, h, ranchersim.Keys{Access: "a", Secret: "s"}, "dockersocket")
	c, _, err := websocket.Dial(t.Context(), ha["url"].(string)+"?token="+ha["token"].(string), nil) //nolint:bodyclose // coder/websocket: never needs closing
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var got strings.Builder
	var sizes []int
	for {
		_, msg, err := c.Read(t.Context())
		if err != nil {
			break
		}
		b, _ := base64.StdEncoding.DecodeString(string(msg))
		sizes = append(sizes, len(b))
		got.Write(b)
	}
	if got.String() != want || slices.Max(sizes) > 1024 || len(sizes) < 5 {
		t.Errorf("relayed %d bytes in frames of %v; want %d bytes in frames of at most 1024", got.Len(), sizes, len(want))
	}
}
