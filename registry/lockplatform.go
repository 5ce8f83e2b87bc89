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

// parsePlatform reads "os/arch[/variant][:os.version]".
func parsePlatform(s string) (*v1.Platform, error) {
	s = strings.TrimSpace(s)
	p, err := v1.ParsePlatform(s)
	if err != nil || s == "" || p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("platform %q: want os/arch[/variant][:os.version]", s)
	}
	return p, nil
}
