package adapt_test

import (
	"strings"
	"testing"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rollout/adapt"
)

// TestRancherURLFromEnvNeedsHTTPS: the $RANCHER_URL fallback is held to the
// same rule as rancher.url: http:// only when the inventory says
// rancher.insecure: true.
func TestRancherURLFromEnvNeedsHTTPS(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		return map[string]string{"RANCHER_URL": "http://rancher.example.com:8080", "RANCHER_ACCESS_KEY": "AK", "RANCHER_SECRET_KEY": "SK"}[k]
	}
	for _, insecure := range []bool{false, true} {
		inv := &inventory.Inventory{Version: 1, File: "hosts.yaml", Rancher: inventory.Rancher{Insecure: insecure},
			Environments: []inventory.Environment{{Name: "dev"}}}
		err := adapt.NewConnections(inv, getenv).Check([]string{"dev"})
		if insecure && err != nil {
			t.Errorf("insecure: %v", err)
		}
		if !insecure && (err == nil || !strings.Contains(err.Error(), "RANCHER_URL") || !strings.Contains(err.Error(), "rancher.insecure: true")) {
			t.Errorf("not insecure: err = %v, want $RANCHER_URL refused", err)
		}
	}
}
