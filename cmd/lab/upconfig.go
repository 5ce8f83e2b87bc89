package main

import (
	"strings"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

// config turns lab up's flags into a lab configuration and its faults.
func (f *upFlags) config() (lab.Config, []lab.Fault, error) {
	cfg := lab.Config{
		Regions: f.regions, Envs: f.envs, HostsPerEnv: f.hosts, Images: f.images,
		Layers: f.layers, Base: f.base, MultiArch: f.multiArch, Foreign: f.foreign, ForeignMirror: f.foreignMirror, Dir: f.dir,
		Discover: f.discover, ViaRancher: f.viaRancher, SourceAuth: f.sourceAuth,
		WindowsEnvs: f.windowsHosts,
		Services:    f.services, ServiceImage: f.serviceImage, HealthDelay: f.healthDelay, HostPort: f.hostPort,
		Strategy: inventory.Strategy{BatchSize: f.batchSize, IntervalMillis: f.batchInterval},
	}
	if f.windowsBuild != "" {
		switch {
		case !lab.IsWindowsBuild(f.windowsBuild):
			return cfg, nil, cli.Usage("--windows-build %s: want major.minor.build, e.g. %s", cli.Quote(f.windowsBuild), lab.DefaultWindowsBuild)
		case len(f.windowsHosts) == 0:
			return cfg, nil, cli.Usage("--windows-build %s: give --windows-hosts ENV,... too", f.windowsBuild)
		}
		cfg.WindowsBuild = f.windowsBuild
	}
	var err error
	if cfg.Impl, err = registries.ParseImpl(f.impl); err != nil {
		return cfg, nil, cli.Usage("--impl: %v", err)
	}
	sizes := []struct {
		flag, val string
		dst       *int64
	}{
		{"--image-size", f.imageSize, &cfg.ImageSize},
		{"--extract-rate", strings.TrimSuffix(f.extractRate, "/s"), &cfg.ExtractRate},
		{"--disk-capacity", f.disk, &cfg.DiskCapacity},
	}
	for _, s := range sizes {
		if *s.dst, err = lab.ParseBytes(s.val); err != nil {
			return cfg, nil, cli.Usage("%s: %v", s.flag, err)
		}
	}
	if f.services < 0 || f.healthDelay <= 0 || f.batchSize < 0 || f.batchInterval < 0 {
		return cfg, nil, cli.Usage("--services, --health-delay, --batch-size and --batch-interval must not be negative")
	}
	if f.hostPort < 0 || f.hostPort > 65535 || f.hostPort > 0 && f.services == 0 {
		return cfg, nil, cli.Usage("--host-port %d: want a port 1-65535, with --services", f.hostPort)
	}
	if f.regions < 1 || f.envs < 1 || f.hosts < 1 || f.layers < 1 || cfg.ImageSize < 1 {
		return cfg, nil, cli.Usage("--regions, --envs, --hosts-per-env, --layers and --image-size must be at least 1")
	}
	for _, l := range f.links {
		if err := cfg.SetLink(l); err != nil {
			return cfg, nil, cli.Usage("--link: %v", err)
		}
	}
	var faults []lab.Fault
	for _, s := range f.faults {
		ft, err := lab.ParseFault(s)
		if err != nil {
			return cfg, nil, cli.Usage("--fault: %v", err)
		}
		faults = append(faults, ft)
	}
	return cfg, faults, nil
}
