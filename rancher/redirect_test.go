package rancher

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"encoding/pem"
)

// TestRedirectToHTTPRefused: an https:// Rancher that redirects to http://
// does not get the API keys sent in clear.
func TestRedirectToHTTPRefused(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/v2-beta", http.StatusFound))
	t.Cleanup(secure.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(secure.URL, "AK", "SK", WithCAFile(ca))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Discover(t.Context())
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Discover through a redirect to http:// = %v, want refused", err)
	}
	if n := leaked.Load(); n > 0 {
		t.Errorf("%d requests with the API keys reached the plain-HTTP server", n)
	}
}
