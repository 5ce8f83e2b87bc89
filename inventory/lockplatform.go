package inventory

import "strings"

// Entries are the platforms im's index offers: its Manifests, or, for a
// lock written before they were recorded, its Platforms parsed
// ("os/arch[/variant][:os.version]", no digests). Nil for a single-platform
// image (a host then pulls it as it is).
func (im LockImage) Entries() []LockManifest {
	if len(im.Manifests) > 0 {
		return im.Manifests
	}
	var out []LockManifest
	for _, s := range im.Platforms {
		if m, ok := parseLockPlatform(s); ok {
			out = append(out, m)
		}
	}
	return out
}

// parseLockPlatform reads "os/arch[/variant][:os.version]".
func parseLockPlatform(s string) (LockManifest, bool) {
	p, version, _ := strings.Cut(s, ":")
	parts := strings.Split(p, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return LockManifest{}, false
	}
	m := LockManifest{OS: parts[0], Architecture: parts[1], OSVersion: version}
	if len(parts) == 3 {
		m.Variant = parts[2]
	}
	return m, true
}

// String is "os/arch[/variant]" followed, for an entry that names one, by
// its os.version: "windows/amd64 10.0.17763.1234".
func (m LockManifest) String() string {
	if m.OS == "" {
		return ""
	}
	s := m.OS + "/" + m.Architecture
	if m.Variant != "" {
		s += "/" + m.Variant
	}
	if m.OSVersion != "" {
		s += " " + m.OSVersion
	}
	return s
}
