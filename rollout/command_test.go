package rollout

import "testing"

// The commands reports print put the subcommand right after the tool and
// the global flags after it, the form both tools document.
func TestCommandForPutsTheSubcommandFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, prefix, state, want string
	}{
		{"active", "rollout -c hosts.yaml", StateActive, ""},
		{"upgraded", "rollout -c hosts.yaml", StateUpgraded,
			"rollout finish -c hosts.yaml --env dev --service web/a   # or: rollout rollback -c hosts.yaml --env dev --service web/a"},
		{"upgrading", "rollout -c '/etc/my drover/hosts.yaml'", StateUpgrading,
			"rollout rollback -c '/etc/my drover/hosts.yaml' --env dev --service web/a"},
		{"settling", "rollout -c hosts.yaml", "finishing-upgrade",
			"rollout status -c hosts.yaml --env dev   # web/a is finishing-upgrade: wait for it to settle, then rollback or finish"},
		{"no global flags", "rollout", StateCanceledUpgrade, "rollout rollback --env dev --service web/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := commandFor(tt.prefix, "dev", "web/a", tt.state); got != tt.want {
				t.Errorf("commandFor(%q, %s) =\n%q, want\n%q", tt.prefix, tt.state, got, tt.want)
			}
		})
	}
}
