package inventory

import (
	"strings"
	"testing"
)

// TestForeignLayersDefault: an unset foreignLayers reads as urls (the
// behaviour before the setting existed); a set one is kept.
func TestForeignLayersDefault(t *testing.T) {
	t.Parallel()
	const doc = `version: 1
registries:
  source: {address: build.example.com}
  regions:
    eu: {address: registry.eu.example.com, foreignLayers: mirror}
    us: {address: registry.us.example.com}
environments:
  - name: dev
    region: us
    hosts: [{name: h1, docker: "unix:///var/run/docker.sock"}]
`
	inv, err := Load(strings.NewReader(doc), "hosts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]ForeignLayers{"eu": ForeignMirror, "us": ForeignURLs} {
		r := inv.Registries.Regions[name]
		if r.ForeignLayers != want || r.Mirrors() != (want == ForeignMirror) {
			t.Errorf("region %s: foreignLayers %q (mirrors %v), want %q", name, r.ForeignLayers, r.Mirrors(), want)
		}
	}
	if inv.Registries.Source.ForeignLayers != "" {
		t.Errorf("source foreignLayers %q, want unset", inv.Registries.Source.ForeignLayers)
	}
}
