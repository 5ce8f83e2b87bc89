package rollout

import "testing"

func TestVerifiedHealth(t *testing.T) {
	t.Parallel()
	once := map[string]string{LabelStartOnce: "true"}
	for _, tc := range []struct {
		name   string
		health string
		labels map[string]string
		want   bool
	}{
		{"healthy", "healthy", nil, true},
		{"healthy run-once", "healthy", once, true},
		{"started-once run-once", "started-once", once, true},
		{"started-once label in any case", "started-once", map[string]string{LabelStartOnce: "True"}, true},
		{"started-once without the label", "started-once", nil, false},
		{"started-once label false", "started-once", map[string]string{LabelStartOnce: "false"}, false},
		{"degraded run-once", "degraded", once, false},
		{"initializing", "initializing", nil, false},
	} {
		if got := verifiedHealth(Service{HealthState: tc.health, Labels: tc.labels}); got != tc.want {
			t.Errorf("%s: verifiedHealth = %v, want %v", tc.name, got, tc.want)
		}
	}
}
