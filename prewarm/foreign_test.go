package prewarm

import (
	"testing"

	"github.com/drover-dev/drover/inventory"
)

func TestFetchesOutside(t *testing.T) {
	t.Parallel()
	inv := &inventory.Inventory{
		Registries: inventory.Registries{Regions: map[string]inventory.Registry{
			"eu": {ForeignLayers: inventory.ForeignMirror}, "us": {ForeignLayers: inventory.ForeignURLs}}},
		Environments: []inventory.Environment{{Name: "dmz-eu", Region: "eu"}, {Name: "demo", Region: "us"}},
	}
	for _, tc := range []struct {
		envs []string
		want bool
	}{{nil, true}, {[]string{"dmz-eu"}, false}, {[]string{"demo"}, true}, {[]string{"dmz-eu", "demo"}, true}} {
		if got := FetchesOutside(inv, tc.envs); got != tc.want {
			t.Errorf("FetchesOutside(%v) = %v, want %v", tc.envs, got, tc.want)
		}
	}
}
