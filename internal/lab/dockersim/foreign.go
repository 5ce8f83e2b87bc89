package dockersim

import (
	"fmt"
	"strings"
)

// WithNondistributableRegistries makes /info report RegistryConfig the way
// a daemon before Engine 28 (API < 1.48) with
// "allow-nondistributable-artifacts": hostnames in its daemon.json does:
// AllowNondistributableArtifactsHostnames lists them (none: an empty list,
// the setting left out) and AllowNondistributableArtifactsCIDRs is empty.
// The default reports neither field, as Engine 28.1 and later (API 1.49)
// do. The host pulls foreign layers the same either way: dockerd reads the
// setting only when pushing (docs/foreign-layers.md).
func WithNondistributableRegistries(hostnames ...string) Option {
	return func(c *config) error {
		for _, h := range hostnames {
			if h == "" || strings.ContainsAny(h, "/ \t") {
				return fmt.Errorf("dockersim: nondistributable registry %q: want host[:port]", h)
			}
		}
		list := append([]string{}, hostnames...)
		c.nondist = &list
		return nil
	}
}

// registryConfig is /info's RegistryConfig.
func (h *Host) registryConfig() map[string]any {
	rc := map[string]any{
		"InsecureRegistryCIDRs": []string{"127.0.0.0/8"},
		"IndexConfigs":          map[string]any{},
		"Mirrors":               []string{},
	}
	if l := h.cfg.nondist; l != nil {
		rc["AllowNondistributableArtifactsCIDRs"] = []string{}
		rc["AllowNondistributableArtifactsHostnames"] = *l
	}
	return rc
}
