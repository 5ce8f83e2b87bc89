package fleet

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab/dockersim"
)

// TestNondistributableAllowed reads the setting from the lab host's raw
// /info (as a pre-28 Windows daemon reports it, or as 28.1+ leaves it
// out) and from hand-written documents (CIDRs, Engine 28.0's nulls).
func TestNondistributableAllowed(t *testing.T) {
	t.Parallel()
	info := func(t *testing.T, opts ...dockersim.Option) []byte {
		h, err := dockersim.Start(t.Context(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+h.Addr()+"/info", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name                   string
		info                   []byte
		registry               string
		wantAllowed, wantKnown bool
	}{
		{"lab host allows the region", info(t, dockersim.WithNondistributableRegistries("registry.eu.example.com")), "registry.eu.example.com", true, true},
		{"lab host allows another registry", info(t, dockersim.WithNondistributableRegistries("registry.us.example.com")), "registry.eu.example.com", false, true},
		{"lab host set to none", info(t, dockersim.WithNondistributableRegistries()), "registry.eu.example.com", false, true},
		{"lab host reports nothing (28.1+)", info(t), "registry.eu.example.com", false, false},
		{"engine 28.0 nulls", []byte(`{"RegistryConfig":{"AllowNondistributableArtifactsCIDRs":null,"AllowNondistributableArtifactsHostnames":null}}`), "10.1.0.5:5000", false, false},
		{"cidr covers ip:port", []byte(`{"RegistryConfig":{"AllowNondistributableArtifactsCIDRs":["10.1.0.0/16"],"AllowNondistributableArtifactsHostnames":[]}}`), "10.1.0.5:5000", true, true},
		{"cidr misses", []byte(`{"RegistryConfig":{"AllowNondistributableArtifactsCIDRs":["10.2.0.0/16"],"AllowNondistributableArtifactsHostnames":[]}}`), "10.1.0.5:5000", false, true},
		{"hostname with port", []byte(`{"RegistryConfig":{"AllowNondistributableArtifactsCIDRs":[],"AllowNondistributableArtifactsHostnames":["reg.example.com:5000"]}}`), "reg.example.com:5000", true, true},
		{"not json", []byte(`<html>`), "reg.example.com", false, false},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			allowed, known := NondistributableAllowed(tc.info, tc.registry)
			if allowed != tc.wantAllowed || known != tc.wantKnown {
				t.Errorf("NondistributableAllowed(%s, %s) = %v, %v; want %v, %v", tc.info, tc.registry, allowed, known, tc.wantAllowed, tc.wantKnown)
			}
		})
	}
}
