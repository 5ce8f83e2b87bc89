package registry

import (
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/drover-dev/drover/inventory"
)

// manifestsOf lists an index's entries that name a platform, as the lock
// records them (hosts pick theirs by os, architecture, variant and, for
// Windows, the os.version build).
func manifestsOf(m *manifest) []inventory.LockManifest {
	var idx v1.IndexManifest
	if json.Unmarshal(m.Raw, &idx) != nil {
		return nil
	}
	var out []inventory.LockManifest
	for _, d := range idx.Manifests {
		if p := d.Platform; p != nil && p.OS != "" && p.OS != "unknown" {
			out = append(out, inventory.LockManifest{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion, Digest: d.Digest.String()})
		}
	}
	return out
}

// CheckPlatforms reports the first of platforms WithPlatforms would refuse,
// so a command can name its flag before anything else happens.
func CheckPlatforms(platforms ...string) error {
	for _, s := range platforms {
		if _, err := parsePlatform(s); err != nil {
			return err
		}
	}
	return nil
}

// parsePlatform reads "os/arch[/variant][:os.version]". Like containerd's
// platforms.Normalize, it takes os and arch in any case, and the
// architecture names a daemon's /info reports (x86_64, aarch64), so
// Linux/x86_64 is linux/amd64 (index entries use the OCI names).
func parsePlatform(s string) (*v1.Platform, error) {
	s = strings.TrimSpace(s)
	p, err := v1.ParsePlatform(s)
	if err != nil || s == "" || p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("platform %q: want os/arch[/variant][:os.version]", s)
	}
	p.OS, p.Architecture = strings.ToLower(p.OS), strings.ToLower(p.Architecture)
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	}
	return p, nil
}
