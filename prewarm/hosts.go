package prewarm

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/registry"
)

// Discover is the hosts of the selection: the inventory's, and for an
// environment whose hosts are reached through Rancher, Rancher's, connected
// as every command connects (rancher.Connect, with opts such as the
// command's logger).
func Discover(ctx context.Context, inv *inventory.Inventory, sel fleet.Selection, getenv func(string) string, opts ...rancher.Option) ([]fleet.Target, error) {
	clientFor := func(e *inventory.Environment) (fleet.RancherHosts, string, error) {
		return rancher.Connect(inv, e.Name, getenv, opts...)
	}
	return fleet.Discover(ctx, inv, sel, clientFor)
}

// Settings are the host commands' bounds as the operator gave them; a zero
// value was not given.
type Settings struct {
	// Concurrency bounds the hosts worked on at once. Zero takes the sum
	// of the selected environments' pull.concurrency, else fleet's default.
	Concurrency int
	// Timeout bounds each host call and pull attempt. Zero takes the
	// longest pull.timeout of the selected environments, else fleet's
	// default.
	Timeout time.Duration
	// RegistryLimit bounds the pulls from one registry (the inventory's
	// maxConcurrency wins) and Retries the retries of a failed pull; both
	// apply when RegistryLimit is set (the commands that pull).
	RegistryLimit, Retries int
	// FallbackSource lets a host pull from the source registry when its
	// region lacks the digest.
	FallbackSource bool
}

// HostOptions are the fleet options of the host commands over the
// environments envs (all when empty): the inventory's registry
// credentials and limits, and s over the inventory's pull settings. A nil
// logger leaves fleet's default (discard).
func HostOptions(inv *inventory.Inventory, envs []string, s Settings, logger *slog.Logger, getenv func(string) string) []fleet.Option {
	// The inventory's pull settings are per environment: the overall bound
	// is their sum over the selected environments, the timeout their longest.
	envConc, envTimeout := fleet.PullSettings(inv, envs)
	opts := []fleet.Option{fleet.WithAuth(fleet.InventoryAuth(inv, getenv))}
	if logger != nil {
		opts = append([]fleet.Option{fleet.WithLogger(logger)}, opts...)
	}
	switch {
	case s.Concurrency > 0:
		opts = append(opts, fleet.WithConcurrency(s.Concurrency))
	case envConc > 0:
		opts = append(opts, fleet.WithConcurrency(envConc))
	}
	switch {
	case s.Timeout > 0:
		opts = append(opts, fleet.WithTimeout(s.Timeout))
	case envTimeout > 0:
		opts = append(opts, fleet.WithTimeout(envTimeout))
	}
	opts = append(opts, fleet.WithRegistryLimits(fleet.RegistryLimits(inv)))
	if s.RegistryLimit > 0 {
		opts = append(opts, fleet.WithRegistryLimit(s.RegistryLimit), fleet.WithRetries(s.Retries))
	}
	if s.FallbackSource {
		opts = append(opts, fleet.WithFallbackSource(inv.Registries.Source.Address))
	}
	return opts
}

// RegionGate checks each region registry once, before its hosts pull
// (fleet.WithRegionGate): a region that does not answer within stall
// fails its hosts at once.
func RegionGate(inv *inventory.Inventory, stall time.Duration, logger *slog.Logger, getenv func(string) string) fleet.RegionGate {
	var mu sync.Mutex
	checks := map[string]func() error{}
	return func(ctx context.Context, region string) error {
		mu.Lock()
		check := checks[region]
		if check == nil {
			check = sync.OnceValue(func() error {
				return registry.Reachable(ctx, region, inv.Registries.Regions[region],
					registry.WithStallTimeout(stall), registry.WithLogger(logger), registry.WithGetenv(getenv))
			})
			checks[region] = check
		}
		mu.Unlock()
		return check()
	}
}
