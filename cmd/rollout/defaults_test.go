package main

import (
	"fmt"
	"testing"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/rollout"
)

// TestFlagDefaultsAreTheEngines: every engine flag shows the engine's own
// default (rollout.Default*), the one definition of each value.
func TestFlagDefaultsAreTheEngines(t *testing.T) {
	t.Parallel()
	want := map[string]any{
		"gate-timeout": rollout.DefaultGateTimeout, "gate-interval": rollout.DefaultGateInterval,
		"upgrade-timeout": rollout.DefaultUpgradeTimeout, "stall-timeout": rollout.DefaultStallTimeout,
		"error-grace": rollout.DefaultErrorGrace, "soak": rollout.DefaultSoak,
		"drain-timeout": rollout.DefaultDrainTimeout, "env-concurrency": rollout.DefaultEnvConcurrency,
		"on-pending": rollout.DefaultOnPending, "on-interrupt": rollout.DefaultOnInterrupt, "finish": rollout.DefaultFinish,
	}
	for _, c := range commands() {
		if c.Flags == nil {
			continue
		}
		fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
		c.Flags(fs)
		for name, v := range want {
			if f := fs.Lookup(name); f != nil && f.DefValue != fmt.Sprint(v) {
				t.Errorf("rollout %s --%s defaults to %s, the engine to %v", c.Name, name, f.DefValue, v)
			}
		}
	}
	// A command without the flag still runs with the engine's default.
	var f engineFlags
	f.register(pflag.NewFlagSet("finish", pflag.ContinueOnError), forFinish)
	if f.gateTimeout != rollout.DefaultGateTimeout || f.gateInterval != rollout.DefaultGateInterval || f.soak != rollout.DefaultSoak ||
		f.errorGrace != rollout.DefaultErrorGrace || f.onPending != string(rollout.DefaultOnPending) ||
		f.finish != string(rollout.DefaultFinish) || f.onInterrupt != string(rollout.DefaultOnInterrupt) {
		t.Errorf("finish's unset engine flags: %+v", f)
	}
}
