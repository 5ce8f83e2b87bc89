package fleet

import (
	"testing"

	"github.com/drover-dev/drover/inventory"
)

// TestTargetsUnselectedHost: --hosts naming a host no selected environment
// has says where it looked (the environments, and those whose hosts Rancher
// lists) and, when another environment lists it, which one. It used to say
// only "is not in the selected environments", also when none was selected.
func TestTargetsUnselectedHost(t *testing.T) {
	t.Parallel()
	inv := &inventory.Inventory{
		Registries: inventory.Registries{Regions: map[string]inventory.Registry{"eu": {Address: "reg.eu:5000"}}},
		Environments: []inventory.Environment{
			{Name: "dev", Region: "eu", Hosts: []inventory.Host{{Name: "dev-01", Docker: "tcp://127.0.0.1:2375"}}},
			{Name: "dmz", Region: "eu", Discover: &inventory.Discover{From: "rancher", Docker: inventory.ViaRancher}},
		},
	}
	discovered := map[string][]inventory.Host{"dmz": {{Name: "dmz-01", Docker: inventory.ViaRancher}}}
	vias := map[string]map[string]*ViaRancher{"dmz": {"dmz-01": {}}}
	for _, tc := range []struct {
		name string
		sel  Selection
		want string
	}{
		{"no environment selected", Selection{Hosts: []string{"nosuch"}},
			`host "nosuch" is in no environment of the inventory (nor among the hosts Rancher lists for dmz)`},
		{"in another environment", Selection{Envs: []string{"dmz"}, Hosts: []string{"dev-01"}},
			`host "dev-01" is not in environment dmz (nor among the hosts Rancher lists for dmz); it is in environment dev: select that one`},
		{"listed environment", Selection{Envs: []string{"dev"}, Hosts: []string{"dmz-01"}},
			`host "dmz-01" is not in environment dev`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := targets(inv, tc.sel, discovered, vias)
			if err == nil || err.Error() != tc.want {
				t.Errorf("targets(%+v): %v, want %s", tc.sel, err, tc.want)
			}
		})
	}
}
