package rollout

import (
	"strings"
	"testing"
)

// TestPortConflict: the spare-host count of the start-first heuristic counts
// only the active hosts the service may run on (its hard host_label rules,
// as Cattle's allocator applies them), and a global service, one container
// on each of those, never has a spare host.
func TestPortConflict(t *testing.T) {
	t.Parallel()
	hosts := []Host{
		{Name: "h1", State: StateActive, Labels: map[string]string{"zone": "dmz"}},
		{Name: "h2", State: StateActive, Labels: map[string]string{"zone": "dmz"}},
		{Name: "h3", State: StateActive, Labels: map[string]string{"zone": "core"}},
		{Name: "h4", State: "inactive", Labels: map[string]string{"zone": "dmz"}},
	}
	dmz := map[string]string{labelHostAffinity: "zone=dmz"}
	tests := []struct {
		name     string
		scale    int
		ports    []string
		labels   map[string]string
		conflict string // "" when it can start first; else part of the reason
	}{
		{name: "no host port", scale: 3},
		{name: "a spare active host", scale: 2, ports: []string{"8080:80/tcp"}},
		{name: "every active host taken", scale: 3, ports: []string{"8080:80/tcp"}, conflict: "fill all 3 active host(s) it may run on"},
		{name: "affinity leaves no spare host", scale: 2, ports: []string{"8080:80/tcp"}, labels: dmz, conflict: "fill all 2 active host(s) its host_label scheduling rules allow"},
		{name: "affinity leaves a spare host", scale: 1, ports: []string{"8080:80/tcp"}, labels: dmz},
		{name: "anti-affinity leaves no spare host", scale: 1, ports: []string{"8080:80/tcp"},
			labels: map[string]string{labelHostAntiAff: "zone=dmz"}, conflict: "fill all 1 active host(s)"},
		{name: "global fills every host it may run on", scale: 1, ports: []string{"8080:80/tcp"},
			labels: map[string]string{labelGlobal: "true"}, conflict: "is global (io.rancher.scheduler.global): it runs on each of the 3 host(s)"},
		{name: "global with affinity", scale: 1, ports: []string{"8080:80/tcp"},
			labels: map[string]string{labelGlobal: "true", labelHostAffinity: "zone=dmz"}, conflict: "each of the 2 host(s)"},
		{name: "global without a host port", scale: 1, labels: map[string]string{labelGlobal: "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := portConflict(Service{Stack: "web", Name: "a", Scale: tt.scale, HostPorts: tt.ports, Labels: tt.labels}, hosts)
			if (got == "") != (tt.conflict == "") || !strings.Contains(got, tt.conflict) {
				t.Errorf("portConflict = %q, want %q", got, tt.conflict)
			}
		})
	}
}
