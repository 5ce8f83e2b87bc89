package fleet

import (
	"context"
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
	found := newEnvHosts()
	err = viaRancherHosts(env, c, []rancher.Host{host("1h1", "web-01"), host("1h2", "web-01"), host("1h3", "web-02")}, found)
	hosts := found.hosts
	if err == nil || !strings.Contains(err.Error(), "1h1 and 1h2,") || !strings.Contains(err.Error(), `"web-01"`) {
		t.Fatalf("err = %v, want the two hosts named web-01 named", err)
	}
	if len(hosts) != 2 {
		t.Errorf("%d hosts, want web-01 once and web-02", len(hosts))
	}
}

type listedHosts []rancher.Host

func (l listedHosts) Project(_ context.Context, idOrName string) (*rancher.Project, error) {
	p := &rancher.Project{}
	p.ID, p.Name = "1a5", idOrName
	return p, nil
}

func (l listedHosts) Hosts(context.Context, string) ([]rancher.Host, error) { return l, nil }

// TestDiscoverDuplicateHostnames: hosts discovered by endpoint follow the
// same rule as those reached through Rancher (one walk, fleetHosts): a
// second active host of a name is refused naming both, and the errors come
// in host order with the endpoint errors.
func TestDiscoverDuplicateHostnames(t *testing.T) {
	t.Parallel()
	env := &inventory.Environment{Name: "dmz", Discover: &inventory.Discover{From: "rancher", Docker: "tcp://{{.Labels.ip}}:2376"}}
	host := func(id, hostname, ip string) rancher.Host {
		h := rancher.Host{Resource: rancher.Resource{ID: id, State: rancher.StateActive}, Hostname: hostname}
		if ip != "" {
			h.Labels = map[string]string{"ip": ip}
		}
		return h
	}
	rhs := listedHosts{host("1h1", "web-01", "10.0.0.1"), host("1h2", "web-01", "10.0.0.2"), host("1h3", "web-02", ""), host("1h4", "web-03", "10.0.0.4")}
	found, err := discoverEnv(t.Context(), env, func(*inventory.Environment) (RancherHosts, string, error) { return rhs, "dmz", nil })
	hosts := found.hosts
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	dup, ep := strings.Index(msg, "1h1 and 1h2,"), strings.Index(msg, "host web-02")
	if dup < 0 || ep < 0 || dup > ep {
		t.Errorf("err = %v, want the two web-01 hosts named, then web-02's endpoint", err)
	}
	var names []string
	for _, h := range hosts {
		names = append(names, h.Name+"="+h.Docker)
	}
	if got := strings.Join(names, " "); got != "web-01=tcp://10.0.0.1:2376 web-03=tcp://10.0.0.4:2376" {
		t.Errorf("hosts %s", got)
	}
}
