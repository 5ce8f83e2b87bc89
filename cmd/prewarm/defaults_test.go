package main

import (
	"fmt"
	"testing"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

// TestFlagDefaultsAreTheLibraries: every bound a prewarm command's flag
// defaults shows the library's own default (fleet, registry, inventory),
// the one definition of each value.
func TestFlagDefaultsAreTheLibraries(t *testing.T) {
	t.Parallel()
	want := map[string]any{
		"concurrency": fleet.DefaultConcurrency, "timeout": fleet.DefaultTimeout,
		"registry-limit": fleet.DefaultRegistryLimit, "retries": fleet.DefaultRetries,
		"jobs": registry.DefaultJobs, "stall-timeout": registry.DefaultStallTimeout,
		"keep": inventory.DefaultKeep,
	}
	seen := map[string]bool{}
	for _, c := range commands() {
		if c.Flags == nil {
			continue
		}
		fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
		c.Flags(fs)
		for name, v := range want {
			if f := fs.Lookup(name); f != nil {
				seen[name] = true
				if f.DefValue != fmt.Sprint(v) {
					t.Errorf("prewarm %s --%s defaults to %s, the library to %v", c.Name, name, f.DefValue, v)
				}
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("no prewarm command has --%s", name)
		}
	}
}

// TestReleaseAndLockUsage: -f and --lock read as in rollout (one text each);
// mirror and plan, which resolve the release and write its lock, say so.
func TestReleaseAndLockUsage(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		if c.Flags == nil {
			continue
		}
		fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
		c.Flags(fs)
		if f := fs.Lookup("file"); f != nil && c.Name != "mirror" && c.Name != "plan" && f.Usage != cli.ReleaseUsage {
			t.Errorf("prewarm %s -f: %q, want %q", c.Name, f.Usage, cli.ReleaseUsage)
		}
		if f := fs.Lookup("lock"); f != nil && f.Usage != cli.LockUsage {
			t.Errorf("prewarm %s --lock: %q, want %q", c.Name, f.Usage, cli.LockUsage)
		}
	}
}
