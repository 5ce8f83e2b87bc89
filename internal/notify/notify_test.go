package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover-dev/drover/internal/notify"
)

// receiver records the bodies posted to it, in order.
type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
}

func (r *receiver) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies
}

func TestDeliversBothFormatsInOrder(t *testing.T) {
	t.Parallel()
	var js, sl receiver
	jsSrv, slSrv := httptest.NewServer(&js), httptest.NewServer(&sl)
	defer jsSrv.Close()
	defer slSrv.Close()
	n, err := notify.New([]notify.Target{
		{Name: "json", URL: jsSrv.URL + "/hook", Format: notify.JSON},
		{Name: "slack", URL: slSrv.URL + "/services/T0/B0/x", Format: notify.Slack, Events: []notify.Kind{notify.NeedsHuman, notify.RunFinished}},
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := []notify.Event{
		{Kind: notify.RunStarted, Tool: "rollout", Command: "apply", Who: "ops@bastion", Release: "release.yaml", Envs: []string{"dev"}},
		{Kind: notify.NeedsHuman, Tool: "rollout", Command: "apply", Reason: "web/svc01 stuck", Commands: []string{"rollout rollback --env dev --service web/svc01"}},
		{Kind: notify.RunFinished, Tool: "rollout", Command: "apply", Summary: "dev=needs-human", Exit: 3, Duration: notify.Duration(90 * time.Second)},
	}
	for _, ev := range evs {
		n.Send(ev)
	}
	n.Close(t.Context())
	if n.Failed() != 0 {
		t.Fatalf("Failed() = %d, want 0", n.Failed())
	}
	var kinds []string
	for _, b := range js.got() {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, m["event"].(string))
	}
	if want := "run-started needs-human run-finished"; strings.Join(kinds, " ") != want {
		t.Errorf("json events = %v, want %s", kinds, want)
	}
	sb := sl.got()
	if len(sb) != 2 {
		t.Fatalf("slack got %d bodies, want 2 (filtered to needs-human, run-finished)", len(sb))
	}
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(sb[0], &m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "needs a human: web/svc01 stuck") || len(m.Blocks) < 2 ||
		!strings.Contains(m.Blocks[1].Text.Text, "```\nrollout rollback --env dev --service web/svc01\n```") {
		t.Errorf("slack body = %s", sb[0])
	}
	if err := json.Unmarshal(sb[1], &m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "failed (exit 3) in 1m30s: dev=needs-human") {
		t.Errorf("slack text = %q", m.Text)
	}
}

// rt is an http.RoundTripper from a function (no network: usable in a
// synctest bubble).
type rt func(*http.Request) (*http.Response, error)

func (f rt) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func status(code int, hdr ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(http.StatusText(code)))}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		replies   []int
		wantTries int
		wantFail  int
		wantTime  time.Duration
	}{
		{"5xx then ok", []int{502, 503, 200}, 3, 0, 3 * time.Second},        // 1s + 2s backoff
		{"429 honours Retry-After", []int{429, 200}, 2, 0, 7 * time.Second}, // Retry-After: 7
		{"4xx is final", []int{404}, 1, 1, 0},
		{"gives up after the retries", []int{500, 500, 500, 500}, 4, 1, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				tries := 0
				client := &http.Client{Transport: rt(func(*http.Request) (*http.Response, error) {
					code := tt.replies[min(tries, len(tt.replies)-1)]
					tries++
					if code == 429 {
						return status(code, "Retry-After", "7"), nil
					}
					return status(code), nil
				})}
				n, err := notify.New([]notify.Target{{URL: "https://hooks.example.com/x", Format: notify.JSON}}, notify.WithClient(client))
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				n.Send(notify.Event{Kind: notify.RunStarted})
				n.Close(t.Context())
				if tries != tt.wantTries || n.Failed() != tt.wantFail || time.Since(start) != tt.wantTime {
					t.Errorf("tries %d, failed %d, took %v; want %d, %d, %v", tries, n.Failed(), time.Since(start), tt.wantTries, tt.wantFail, tt.wantTime)
				}
			})
		})
	}
}

// A webhook that never answers holds neither Send nor Close past its
// deadline; what it did not take is counted.
func TestHangingWebhookIsBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		client := &http.Client{Transport: rt(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})}
		var logs bytes.Buffer
		n, err := notify.New([]notify.Target{{Name: "$HOOK", URL: "https://hooks.example.com/x", Format: notify.JSON}},
			notify.WithClient(client), notify.WithQueueSize(2), notify.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for range 5 {
			n.Send(notify.Event{Kind: notify.WaveStarted})
			synctest.Wait() // the first is taken off the queue and in flight
		}
		if time.Since(start) != 0 {
			t.Errorf("Send blocked for %v", time.Since(start))
		}
		if n.Failed() != 2 {
			t.Errorf("after 5 sends, one in flight and 2 queued: Failed() = %d, want 2 (dropped)", n.Failed())
		}
		ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
		defer cancel()
		n.Close(ctx)
		if d := time.Since(start); d != 25*time.Second {
			t.Errorf("Close returned after %v, want its 25s deadline", d)
		}
		if n.Failed() != 5 {
			t.Errorf("Failed() = %d, want 5", n.Failed())
		}
		if !strings.Contains(logs.String(), `level=WARN msg="notification not delivered" webhook=$HOOK event=wave-started`) {
			t.Errorf("logs:\n%s", logs.String())
		}
	})
}

// The URL's token never reaches a log line, whatever fails.
func TestURLNeverLogged(t *testing.T) {
	t.Parallel()
	const token = "T0123/B0456/s3cr3tT0k3n"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook "+r.URL.String(), http.StatusNotFound)
	}))
	defer echo.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // connection refused: a *url.Error carrying the URL
	var logs bytes.Buffer
	n, err := notify.New([]notify.Target{
		{Name: "$ECHO", URL: echo.URL + "/services/" + token + "?token=" + token, Format: notify.Slack},
		{Name: "$GONE", URL: gone.URL + "/services/" + token, Format: notify.JSON},
	}, notify.WithRetries(0), notify.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	n.Send(notify.Event{Kind: notify.RunStarted})
	n.Close(t.Context())
	if n.Failed() != 2 {
		t.Errorf("Failed() = %d, want 2", n.Failed())
	}
	if strings.Contains(logs.String(), "s3cr3t") || !strings.Contains(logs.String(), "webhook=$GONE") ||
		!strings.Contains(logs.String(), "status 404") {
		t.Errorf("logs:\n%s", logs.String())
	}
	_, err = notify.New([]notify.Target{{Name: "$BAD", URL: "hooks.slack.com/" + token, Format: notify.JSON}})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("New with a bad URL: %v", err)
	}
}

func TestGuessFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]notify.Format{
		"https://hooks.slack.com/services/T/B/x": notify.Slack,
		"https://example.com/hooks.slack.com":    notify.JSON,
		"http://127.0.0.1:9/hook":                notify.JSON,
	} {
		if got := notify.GuessFormat(in); got != want {
			t.Errorf("GuessFormat(%q) = %s, want %s", in, got, want)
		}
	}
}

// Wave 0 and exit 0 are sent: a run-finished without "exit" (omitempty
// dropped the 0) left a receiver unable to tell success from a missing field.
func TestZeroWaveAndExitSent(t *testing.T) {
	for _, c := range []struct {
		ev   notify.Event
		want string
	}{
		{notify.Event{Kind: notify.WaveStarted, Wave: 0}, `"wave":0`},
		{notify.Event{Kind: notify.RunFinished, Exit: 0}, `"exit":0`},
		{notify.Event{Kind: notify.PrewarmFinished}, `"exit":0`},
		{notify.Event{Kind: notify.EnvDone, Exit: 3}, `"exit":3`},
	} {
		b, err := json.Marshal(c.ev)
		if err != nil || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %s %v, want %s in it", c.ev.Kind, b, err, c.want)
		}
	}
	b, _ := json.Marshal(notify.Event{Kind: notify.EnvDone})
	if strings.Contains(string(b), `"wave"`) || strings.Contains(string(b), `"exit"`) {
		t.Errorf("env-done carries wave or exit: %s", b)
	}
}

// TestTitles: the one line a chat shows says who started what on which
// environments, that a failed environment was rolled back and why, and
// which hosts a prewarm left not ready.
func TestTitles(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ev   notify.Event
		want string
	}{
		{notify.Event{Kind: notify.RunStarted, Tool: "rollout", Command: "apply", Who: "ops@bastion", Release: "release.yaml", Envs: []string{"dev", "qa"}},
			"rollout apply started by ops@bastion: release.yaml on dev, qa"},
		{notify.Event{Kind: notify.EnvFailed, Tool: "rollout", Command: "apply", Env: "qa", Status: "failed", Reason: "web/api: not healthy within 15m0s"},
			"rollout apply: qa failed and was rolled back: web/api: not healthy within 15m0s"},
		{notify.Event{Kind: notify.EnvFailed, Tool: "rollout", Command: "apply", Env: "qa", Status: "gated", Reason: "2 hosts lack the images"},
			"rollout apply: qa gated: 2 hosts lack the images"},
		{notify.Event{Kind: notify.RunFinished, Tool: "rollout", Command: "apply", Summary: "dev=done", Duration: notify.Duration(90 * time.Second)},
			"rollout apply finished in 1m30s: dev=done"},
		{notify.Event{Kind: notify.PrewarmFailed, Tool: "prewarm", Command: "run", Exit: 1, Duration: notify.Duration(time.Minute), NotReady: []string{"dev-01", "dev-02"}},
			"prewarm run failed (exit 1) in 1m0s: 2 host(s) not ready: dev-01, dev-02"},
	} {
		if got := tt.ev.Title(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.ev.Kind, got, tt.want)
		}
	}
}
