package fleet

import (
	"strings"
	"testing"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

// TestViaRancherDuplicateHostnames: two active Rancher hosts with one
// hostname are refused, both ids named; they used to become two targets of
// one name sharing one dialer (one host reached twice, the other never).
func TestViaRancherDuplicateHostnames(t *testing.T) {
	t.Parallel()
	c, err := rancher.New("https://rancher.example.com", "key", "secret")
	if err != nil {
		t.Fatal(err)
	}
	env := &inventory.Environment{Name: "dmz", Discover: &inventory.Discover{From: "rancher", Docker: inventory.ViaRancher}}
	host := func(id, hostname string) rancher.Host {
		return rancher.Host{Resource: rancher.Resource{ID: id, State: rancher.StateActive}, Hostname: hostname}
	}
	hosts, _, err := viaRancherHosts(env, c, []rancher.Host{host("1h1", "web-01"), host("1h2", "web-01"), host("1h3", "web-02")})
	if err == nil || !strings.Contains(err.Error(), "1h1 and 1h2,") || !strings.Contains(err.Error(), `"web-01"`) {
		t.Fatalf("err = %v, want the two hosts named web-01 named", err)
	}
	if len(hosts) != 2 {
		t.Errorf("%d hosts, want web-01 once and web-02", len(hosts))
	}
}
