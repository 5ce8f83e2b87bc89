package dockersim

// registryConfig is /info's RegistryConfig, as Engine 28.1 and later (API
// 1.49) report it: without the AllowNondistributableArtifacts fields, which
// only ever mattered for pushes (docs/foreign-layers.md).
func (h *Host) registryConfig() map[string]any {
	return map[string]any{
		"InsecureRegistryCIDRs": []string{"127.0.0.0/8"},
		"IndexConfigs":          map[string]any{},
		"Mirrors":               []string{},
	}
}
