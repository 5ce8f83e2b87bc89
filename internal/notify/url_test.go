package notify_test

import (
	"bytes"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/notify"
)

// TestCheckURL: http:// is refused unless its host is loopback or the
// target is insecure; the error never repeats the URL's user, path or
// query.
func TestCheckURL(t *testing.T) {
	t.Parallel()
	const token = "T0/B0/s3cr3t"
	tests := []struct {
		name     string
		url      string
		insecure bool
		want     string // "" accepted; else in the error
	}{
		{"https", "https://hooks.slack.com/services/" + token, false, ""},
		{"http to 127.0.0.1", "http://127.0.0.1:9000/hook/" + token, false, ""},
		{"http to 127.0.0.0/8", "http://127.8.9.10/hook/" + token, false, ""},
		{"http to ::1", "http://[::1]:9000/hook/" + token, false, ""},
		{"http to localhost", "http://LocalHost:9000/hook/" + token, false, ""},
		{"http, insecure", "http://hooks.example.com/hook/" + token, true, ""},
		{"http to a name", "http://hooks.example.com/hook/" + token + "?token=" + token, false, "http://hooks.example.com: plain HTTP"},
		{"http to an address", "http://user:s3cr3t@10.0.0.5:8080/hook/" + token, false, "http://10.0.0.5:8080: plain HTTP"},
		{"http to a name under localhost", "http://localhost.example.com/hook/" + token, false, "plain HTTP"},
		{"http to a name like 127.0.0.1", "http://127.0.0.1.example.com/hook/" + token, false, "plain HTTP"},
		{"not http", "ftp://hooks.example.com/" + token, true, "not an http(s) URL"},
		{"no scheme", "hooks.slack.com/services/" + token, false, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := notify.CheckURL(tt.url, tt.insecure)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckURL: %v, want nil", err)
				}
				if _, err := notify.New([]notify.Target{{URL: tt.url, Format: notify.JSON, Insecure: tt.insecure}}); err != nil {
					t.Errorf("New: %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("CheckURL: %v, want %q without the token", err, tt.want)
			}
			if cleartext := strings.Contains(tt.want, "plain HTTP"); errors.Is(err, notify.ErrCleartext) != cleartext {
				t.Errorf("errors.Is(%v, ErrCleartext) = %v, want %v", err, !cleartext, cleartext)
			}
			_, err = notify.New([]notify.Target{{Name: "$HOOK", URL: tt.url, Format: notify.JSON, Insecure: tt.insecure}})
			if err == nil || !strings.Contains(err.Error(), "webhook $HOOK: ") || !strings.Contains(err.Error(), tt.want) ||
				strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("New: %v, want webhook $HOOK: ...%s... without the token", err, tt.want)
			}
		})
	}
}

// The default client verifies TLS against the system's roots: a webhook
// behind a self-signed certificate gets nothing.
func TestVerifiesTLS(t *testing.T) {
	t.Parallel()
	var r receiver
	srv := httptest.NewUnstartedServer(&r)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error it logs is the point
	srv.StartTLS()
	defer srv.Close()
	var logs bytes.Buffer
	n, err := notify.New([]notify.Target{{Name: "$TLS", URL: srv.URL + "/hook", Format: notify.JSON}},
		notify.WithRetries(0), notify.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	n.Send(notify.Event{Kind: notify.RunStarted})
	n.Close(t.Context())
	if n.Failed() != 1 || len(r.got()) != 0 || !strings.Contains(logs.String(), "certificate") {
		t.Errorf("Failed() = %d, %d bodies delivered; want 1 and none, refused for its certificate:\n%s", n.Failed(), len(r.got()), logs.String())
	}
}
