package inventory

import (
	"strings"
	"testing"
)

// TestRancherCheckURL: an http:// Rancher URL carries the API keys in
// clear, so it needs rancher.insecure: true; the message never shows
// credentials.
func TestRancherCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		insecure bool
		wantErr  string
	}{
		{name: "https", url: "https://rancher.example.com"},
		{name: "http refused", url: "http://10.0.0.1:8080", wantErr: "rancher.insecure: true"},
		{name: "http on loopback refused", url: "http://127.0.0.1:8080/v2-beta", wantErr: "plain HTTP"},
		{name: "http insecure", url: "http://10.0.0.1:8080", insecure: true},
		{name: "credentials", url: "https://ak:hunter2@rancher.example.com", wantErr: "credentials in the URL"},
		{name: "credentials over http", url: "http://ak:hunter2@rancher.example.com", wantErr: "credentials in the URL"},
		{name: "no scheme", url: "rancher.example.com:8080", wantErr: "want http:// or https://"},
		{name: "query", url: "https://rancher.example.com/v2-beta?token=hunter2", wantErr: "https://rancher.example.com\": no query or fragment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Rancher{Insecure: tc.insecure}.CheckURL(tc.url)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v", tc.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckURL(%q) = %v, want an error containing %q", tc.url, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}
