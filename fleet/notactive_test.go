package fleet

import (
	"strings"
	"testing"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

// TestFleetHostsNotActive: hosts Rancher does not report active are
// targets marked why; removed ones are not; a stale record (not active) of
// a name an active host has is that host's, and several stale records of
// one name are one target, not a duplicate-name error.
func TestFleetHostsNotActive(t *testing.T) {
	t.Parallel()
	host := func(id, hostname, state, agent string) rancher.Host {
		return rancher.Host{Resource: rancher.Resource{ID: id, State: state}, Hostname: hostname, AgentState: agent,
			Labels: map[string]string{"ip": "10.0.0." + id[2:]}}
	}
	rhs := listedHosts{
		host("1h1", "web-01", "disconnected", "disconnected"), // web-01's old record
		host("1h2", "web-01", "active", ""),
		host("1h3", "web-02", "inactive", ""),
		host("1h4", "web-03", "reconnecting", "reconnecting"),
		host("1h5", "web-03", "inactive", "disconnected"),
		host("1h6", "web-04", "purged", ""),
		host("1h7", "web-05", "removing", ""),
		host("1h8", "web-06", "inactive", "disconnected"),
	}
	env := &inventory.Environment{Name: "dmz", Discover: &inventory.Discover{From: "rancher", Docker: "tcp://{{.Labels.ip}}:2376"}}
	found, err := discoverEnv(t.Context(), env, func(*inventory.Environment) (RancherHosts, string, error) { return rhs, "dmz", nil })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range found.hosts {
		s := h.Name + "=" + h.Docker
		if na := found.notActive[h.Name]; na != nil {
			s += " (" + na.Error()[:strings.Index(na.Error(), ", so")] + ")"
		}
		got = append(got, s)
	}
	want := "web-01=tcp://10.0.0.2:2376 web-02=tcp://10.0.0.3:2376 (Rancher says state inactive) " +
		"web-03=tcp://10.0.0.4:2376 (Rancher says agent reconnecting) web-06=tcp://10.0.0.8:2376 (Rancher says state inactive, agent disconnected)"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("hosts\n%s\nwant\n%s", g, want)
	}
}
