package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLockImageEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   LockImage
		want []LockManifest
	}{
		{"single platform", LockImage{}, nil},
		{"manifests win", LockImage{Platforms: []string{"linux/amd64"}, Manifests: []LockManifest{{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1", Digest: "sha256:a"}}},
			[]LockManifest{{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1", Digest: "sha256:a"}}},
		{"older lock: platforms parsed", LockImage{Platforms: []string{"linux/arm64/v8", "windows/amd64:10.0.20348.2", "bogus"}},
			[]LockManifest{{OS: "linux", Architecture: "arm64", Variant: "v8"}, {OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.Entries(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Entries() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A lock written before manifests were recorded still reads, and one with
// them round-trips.
func TestLockManifestsCompatible(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.json")
	const body = `{"version":1,"created":"2026-01-01T00:00:00Z","source":"src","images":[{"name":"app","ref":"team/app:1","repository":"team/app","tag":"1",` +
		`"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","mediaType":"x","platforms":["windows/amd64:10.0.17763.1"]}]}`
	if err := os.WriteFile(old, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := ReadLock(old)
	if err != nil {
		t.Fatalf("older lock: %v", err)
	}
	if got := l.Images[0].Entries(); len(got) != 1 || got[0].OSVersion != "10.0.17763.1" {
		t.Errorf("older lock entries = %+v", got)
	}
	l.Images[0].Manifests = []LockManifest{{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1", Digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}}
	nw := filepath.Join(dir, "new.json")
	if err := WriteLock(nw, l); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLock(nw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Images[0].Manifests, l.Images[0].Manifests) {
		t.Errorf("round trip = %+v", back.Images[0].Manifests)
	}
}
