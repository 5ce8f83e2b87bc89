package lab

import (
	"slices"
	"testing"
)

func TestDMZ(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		regions, envs int
		want          []string
	}{
		{"no dmz", 3, 3, nil},
		{"make demo", 3, 5, []string{"dmz-eu-west", "dmz-us-east"}},
		{"one region", 1, 5, []string{"dmz-eu-west", "dmz-eu-west-2"}},
		{"zero means one", 0, 0, nil},
	}
	for _, tc := range tests {
		if got := DMZ(tc.regions, tc.envs); !slices.Equal(got, tc.want) {
			t.Errorf("%s: DMZ(%d, %d) = %v, want %v", tc.name, tc.regions, tc.envs, got, tc.want)
		}
	}
}
