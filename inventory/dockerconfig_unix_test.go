//go:build unix

package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadDockerConfig: the docker config credentials.dockerConfig names
// is read in bounded memory, by validation (CheckFiles) and by the tools
// that log in with it (fleet, registry): a file over MaxDockerConfigBytes
// is refused naming it and the cap, and a FIFO at once (opening it waited
// for a writer, in Validate too); a config.json of normal size is read.
func TestReadDockerConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, big, fifo := filepath.Join(dir, "config.json"), filepath.Join(dir, "big.json"), filepath.Join(dir, "fifo.json")
	if err := os.WriteFile(good, []byte(`{"auths": {"r.example.com": {"auth": "dTpw"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, []byte(`{"auths": {}, "x": "`+strings.Repeat("a", MaxDockerConfigBytes)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if b, err := ReadDockerConfig(good); err != nil || !strings.Contains(string(b), "auths") {
		t.Errorf("ReadDockerConfig(config.json) = %q, %v", b, err)
	}
	for _, tc := range []struct{ path, want string }{
		{big, "big.json is larger than 1 MiB"},
		{fifo, "fifo.json: not a regular file"},
	} {
		if _, err := ReadDockerConfig(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadDockerConfig(%s) = %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
		inv := &Inventory{Version: 1, Registries: Registries{
			Source:  Registry{Address: "src.example.com"},
			Regions: map[string]Registry{"eu": {Address: "r.example.com", Credentials: &RegistryCredentials{DockerConfig: tc.path}}},
		}}
		if err := inv.Validate(CheckFiles(true)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate with dockerConfig %s = %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}
