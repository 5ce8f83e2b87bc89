package fleet

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/registry"

	"github.com/drover-dev/drover/inventory"
)

// Not parallel: it sets DOCKER_CONFIG for the default keychain.
func TestInventoryAuth(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.json")
	basic := base64.StdEncoding.EncodeToString([]byte("cfguser:cfgpass"))
	if err := os.WriteFile(cfgPath, []byte(`{"auths":{"ap.example.com:5000":{"auth":"`+basic+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir) // the default keychain reads an empty-for-us config here
	inv := &inventory.Inventory{Registries: inventory.Registries{
		Source: inventory.Registry{Address: "build.example.com"},
		Regions: map[string]inventory.Registry{
			"eu": {Address: "eu.example.com", Credentials: &inventory.RegistryCredentials{UsernameEnv: "EU_USER", PasswordEnv: "EU_PASS"}},
			"ap": {Address: "ap.example.com:5000", Credentials: &inventory.RegistryCredentials{DockerConfig: cfgPath}},
			"us": {Address: "us.example.com", Credentials: &inventory.RegistryCredentials{UsernameEnv: "US_USER", PasswordEnv: "US_PASS"}},
		},
	}}
	env := map[string]string{"EU_USER": "alice", "EU_PASS": "s3cret", "US_USER": "bob"}
	auth := InventoryAuth(inv, func(k string) string { return env[k] })
	for _, tc := range []struct {
		addr           string
		user, password string
		anonymous      bool
		wantErr        string
	}{
		{addr: "eu.example.com", user: "alice", password: "s3cret"},
		{addr: "ap.example.com:5000", user: "cfguser", password: "cfgpass"},
		{addr: "us.example.com", wantErr: "US_PASS"},
		{addr: "build.example.com", anonymous: true},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			h, err := auth(t.Context(), tc.addr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "bob") {
					t.Fatalf("err %v, want one naming %s and no values", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.anonymous {
				if h != "" {
					t.Errorf("header %q, want anonymous", h)
				}
				return
			}
			b, err := base64.URLEncoding.DecodeString(h)
			if err != nil {
				t.Fatalf("header is not base64url: %v", err)
			}
			var ac registry.AuthConfig
			if err := json.Unmarshal(b, &ac); err != nil {
				t.Fatal(err)
			}
			if ac.Username != tc.user || ac.Password != tc.password || ac.ServerAddress != tc.addr {
				t.Errorf("auth %s@%s, want %s@%s", ac.Username, ac.ServerAddress, tc.user, tc.addr)
			}
		})
	}
}
