package lab

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/drover-dev/drover/inventory"
)

// TestInventoryNamesUnique: the hosts.yaml a lab of any size writes loads
// and validates. lab up --envs 10 --regions 3 wrote two environments named
// dmz-eu-west-2 (a region's third dmz took the second's name), and
// validate refused the lab's own inventory.
func TestInventoryNamesUnique(t *testing.T) {
	t.Parallel()
	for envs := 1; envs <= 12; envs++ {
		for nreg := 1; nreg <= 6; nreg++ {
			cfg, err := Config{Envs: envs, Regions: nreg, HostsPerEnv: 2}.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			names := regionNames(cfg.Regions)
			regions := map[string]string{}
			for i, n := range names {
				regions[n] = fmt.Sprintf("127.0.0.1:%d", 5001+i)
			}
			var list []*Env
			port := 2375
			for _, p := range planEnvs(cfg.Envs, names) {
				e := newEnv(p)
				for i := range cfg.HostsPerEnv {
					port++
					e.Hosts = append(e.Hosts, &Host{Name: hostName(p.name, i), Env: p.name, Region: p.region, Endpoint: fmt.Sprintf("tcp://127.0.0.1:%d", port)})
				}
				list = append(list, e)
			}
			doc := inventoryYAML(cfg, "127.0.0.1:5000", regions, "http://127.0.0.1:8080", list)
			inv, err := inventory.Load(bytes.NewReader(doc), "lab.yaml")
			if err == nil {
				err = inv.Validate()
			}
			if err != nil {
				t.Errorf("--envs %d --regions %d: the lab's inventory: %v", envs, nreg, err)
				continue
			}
			if got := len(inv.Environments); got != envs {
				t.Errorf("--envs %d --regions %d: %d environments in the inventory", envs, nreg, got)
			}
		}
	}
}
