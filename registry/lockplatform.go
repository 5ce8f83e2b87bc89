package registry

import (
	"encoding/json"

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
