package dockersim

import (
	"encoding/json"
	"testing"

	"github.com/moby/moby/client"
)

// pick takes the entry of a Windows host's build, as Windows dockerd does,
// or the first windows entry when none has it.
func TestPickWindowsBuild(t *testing.T) {
	t.Parallel()
	var doc manifestDoc
	if err := json.Unmarshal([]byte(`{"manifests":[
		{"digest":"sha256:l","platform":{"os":"linux","architecture":"amd64"}},
		{"digest":"sha256:w1","platform":{"os":"windows","architecture":"amd64","os.version":"10.0.17763.6054"}},
		{"digest":"sha256:w2","platform":{"os":"windows","architecture":"amd64","os.version":"10.0.20348.2582"}}]}`), &doc); err != nil {
		t.Fatal(err)
	}
	win := platform{OS: "windows", Architecture: "amd64"}
	tests := []struct {
		name      string
		p         platform
		osVersion string
		want      string
	}{
		{"linux", platform{OS: "linux", Architecture: "amd64"}, "", "sha256:l"},
		{"2019", win, "10.0.17763", "sha256:w1"},
		{"2022 with revision", win, "10.0.20348.1", "sha256:w2"},
		{"2025: first windows entry", win, "10.0.26100", "sha256:w1"},
		{"no build", win, "", "sha256:w1"},
	}
	for _, tt := range tests {
		d, ok := doc.pick(tt.p, tt.osVersion)
		if !ok || d.Digest != tt.want {
			t.Errorf("%s: pick = %s, %v; want %s", tt.name, d.Digest, ok, tt.want)
		}
	}
}

// A Windows host's /info reports its build as a Windows daemon does.
func TestWindowsInfo(t *testing.T) {
	t.Parallel()
	h, err := Start(t.Context(), WithPlatform("windows/amd64"), WithOSVersion("10.0.20348"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	c, err := client.New(client.WithHost(h.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Info(t.Context(), client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if i := res.Info; i.OSType != "windows" || i.OSVersion != "10.0.20348" || i.KernelVersion[:11] != "10.0 20348 " || i.Architecture != "x86_64" {
		t.Errorf("info OSType %q OSVersion %q KernelVersion %q Architecture %q", i.OSType, i.OSVersion, i.KernelVersion, i.Architecture)
	}
	if _, err := Start(t.Context(), WithOSVersion("2022")); err == nil {
		t.Error("WithOSVersion(2022) accepted")
	}
}
