package fleet

import (
	"encoding/json"
	"net"
	"net/netip"
	"slices"
)

// NondistributableAllowed reads a daemon's raw /info JSON and reports
// whether its allow-nondistributable-artifacts setting covers registry
// (host[:port], matched by hostname or, for an IP address, by CIDR), and
// whether the daemon reports the setting at all: Engine 28.0 (API 1.48)
// reports null and Engine 28.1+ (API 1.49) leaves the fields out, and the
// moby API module's types lack them, hence the raw JSON. reported is false
// then, and allowed means nothing.
//
// The setting governs pushes only (a dockerd without it skips foreign
// layers when pushing; no pull reads it), so a host that lacks it still
// pulls the foreign layers its region holds: see docs/foreign-layers.md.
func NondistributableAllowed(info []byte, registry string) (allowed, reported bool) {
	var doc struct {
		RegistryConfig *struct {
			CIDRs     []string `json:"AllowNondistributableArtifactsCIDRs"`
			Hostnames []string `json:"AllowNondistributableArtifactsHostnames"`
		}
	}
	if json.Unmarshal(info, &doc) != nil || doc.RegistryConfig == nil {
		return false, false
	}
	rc := doc.RegistryConfig
	if rc.CIDRs == nil && rc.Hostnames == nil {
		return false, false
	}
	if slices.Contains(rc.Hostnames, registry) {
		return true, true
	}
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false, true
	}
	for _, c := range rc.CIDRs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(ip) {
			return true, true
		}
	}
	return false, true
}
