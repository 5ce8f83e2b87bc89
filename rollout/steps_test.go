package rollout

import (
	"testing"
	"time"
)

func TestUpgradeTimeoutCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		svc        Service
		startFirst bool
		want       string
	}{
		{"start first, old containers serve", Service{State: StateUpgrading, HealthState: "healthy", TransitioningMessage: "In Progress"}, true,
			"upgrade: still upgrading after the 10s upgrade timeout; service health healthy: the old containers still serve, the new ones never turned healthy"},
		{"stop first, Rancher says why", Service{State: StateUpgrading, HealthState: "degraded", TransitioningMessage: "Allocation failed: no active host"}, false,
			"upgrade: still upgrading after the 10s upgrade timeout (Rancher: Allocation failed: no active host); service health degraded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := upgradeTimeoutCause(tt.svc, 10*time.Second, tt.startFirst); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
