package lab

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

// Config describes a lab. The zero Config is a small valid lab: one region,
// one environment with one host, two versions of app of 1 MiB each.
type Config struct {
	// Regions is how many regional registries run. The default is 1.
	// Regions are named eu-west, us-east, ap-south, eu-north, us-west,
	// ap-east, sa-east, af-south, then region-9, region-10...
	Regions int
	// Envs is how many environments (Rancher projects) exist. The default
	// is 1. They are dev, qa, demo, then dmz-<region>... (a region's second
	// dmz is dmz-<region>-2, and so on), spread over the regions
	// round-robin; waves are 0, 1, 2, then 3 for every dmz.
	Envs int
	// HostsPerEnv is how many simulated Docker hosts each environment has.
	// The default is 1.
	HostsPerEnv int

	// Images are seeded into the source registry ("repo:tag"). The default
	// is app:1.0 and app:1.1.
	Images []string
	// ImageSize is the approximate size of one image. The default is 1 MiB.
	ImageSize int64
	// Layers per image. The default is 4.
	Layers int
	// Base is how many leading layers tags of a repository share; 0 means
	// Layers/2, negative none (see registries.SeedSpec).
	Base int
	// MultiArch and Foreign are seeded as registries.SeedSpec says (one
	// manifest list; one image with a foreign layer). Empty means none.
	MultiArch string
	Foreign   string
	// ForeignMirror names regions whose hosts.yaml entry says
	// foreignLayers: mirror: the mirror copies foreign layers into them and
	// their hosts fetch nothing from outside. The others are left at urls.
	ForeignMirror []string
	// SeedRegions also seeds every regional registry (as if mirrored).
	SeedRegions bool

	// Services is how many Rancher services every environment runs, all in
	// stack "web": web/svc01, web/svc02... (Lab.ServiceNames). Each runs
	// ServiceImage from its environment's regional registry, ServiceScale
	// containers, with a health check (new containers are "initializing"
	// for HealthDelay), so healthState means something. Start returns once
	// every service is active. The default is none.
	Services int
	// ServiceImage is the image ("repo:tag", one of Images) services run at
	// start. It is seeded into every region (as if mirrored) and preloaded
	// onto the hosts (dockersim.Host.Preload: setup is not traffic under
	// test). The default is Images[0].
	ServiceImage string
	// ServiceScale is each service's scale. The default is HostsPerEnv.
	ServiceScale int
	// HealthDelay is how long a new service container stays
	// "initializing" before it turns healthy. The default is 500ms.
	HealthDelay time.Duration
	// HostPort, when set, makes service i (from 0) publish host port
	// HostPort+i for container port 80 ("N:80/tcp"), held on its host while
	// a container runs, as in Rancher: with a scale of HostsPerEnv a
	// startFirst upgrade then finds no host with the port free. The
	// default is none.
	HostPort int
	// Strategy and Concurrency go into the hosts.yaml's defaults: block
	// (zero values are left out, so the inventory's defaults apply).
	Strategy    inventory.Strategy
	Concurrency int

	// Discover names environments whose hosts the inventory does not list:
	// it tells the tools to find them in Rancher (discover: from rancher)
	// with the template DiscoverTemplate, which reads the host's
	// "docker-port" label.
	Discover []string
	// ViaRancher names environments whose hosts are reached only through
	// Rancher: the hosts.yaml says discover: {from: rancher, docker: rancher}
	// and lists no Docker endpoint for them, and the Rancher simulator relays
	// each host's dockersocket action to that host's simulated Docker
	// endpoint (as the agent relays /var/run/docker.sock).
	ViaRancher []string

	// WindowsEnvs names environments whose hosts are Windows hosts of
	// WindowsBuild (their /info says so, as a Windows daemon's does). With
	// any, every image of Images is seeded as a manifest list of
	// linux/amd64 and windows/amd64 for each of WindowsBuilds, and each
	// host pulls the entry of its own build.
	WindowsEnvs []string
	// WindowsBuild is the Windows hosts' build ("10.0.17763", a revision
	// may follow). The default is DefaultWindowsBuild.
	WindowsBuild string

	// SourceAuth makes the source registry require HTTP Basic auth with a
	// generated password; the inventory names the env vars holding it
	// (LAB_SOURCE_USERNAME, LAB_SOURCE_PASSWORD; values from Lab.Getenv).
	// Hosts never pull from the source, so they need no credentials.
	SourceAuth bool

	// Impl is the registry implementation. The default is distribution.
	Impl registries.Impl
	// SourceLink shapes the source registry's network.
	SourceLink netem.Link
	// RegionLink shapes every regional registry; RegionLinks overrides it
	// per region name.
	RegionLink  netem.Link
	RegionLinks map[string]netem.Link
	// HostLink shapes every host's link to registries; HostLinks overrides
	// it per host name.
	HostLink  netem.Link
	HostLinks map[string]netem.Link
	// ExtractRate (bytes per second) and DiskCapacity (bytes) apply to
	// every host; 0 means instant and unlimited.
	ExtractRate  int64
	DiskCapacity int64

	// Dir keeps registry data under Dir/<registry name> and leaves it after
	// Close. The default is temporary directories removed by Close.
	Dir string
	// Logger receives the lab's debug messages. The default discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	var errs []error
	def := func(v *int, d int, name string) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, *v))
		}
	}
	def(&c.Regions, 1, "regions")
	def(&c.Envs, 1, "envs")
	def(&c.HostsPerEnv, 1, "hosts per env")
	def(&c.Layers, 4, "layers")
	if c.ImageSize == 0 {
		c.ImageSize = 1 << 20
	}
	if c.ImageSize < 0 {
		errs = append(errs, fmt.Errorf("image size must be positive, got %d", c.ImageSize))
	}
	if len(c.Images) == 0 {
		c.Images = []string{"app:1.0", "app:1.1"}
	}
	if c.Services > 0 {
		if c.ServiceImage == "" {
			c.ServiceImage = c.Images[0]
		}
		if !slices.Contains(c.Images, c.ServiceImage) {
			errs = append(errs, fmt.Errorf("service image %q is not one of the images %v", c.ServiceImage, c.Images))
		}
		def(&c.ServiceScale, c.HostsPerEnv, "service scale")
		if c.HealthDelay == 0 {
			c.HealthDelay = 500 * time.Millisecond
		}
	}
	if c.HostPort < 0 || c.HostPort > 0 && c.HostPort+c.Services-1 > 65535 {
		errs = append(errs, fmt.Errorf("host port %d: want 1-65535 for each of the %d services", c.HostPort, c.Services))
	}
	if c.Services < 0 || c.HealthDelay < 0 || c.Concurrency < 0 {
		errs = append(errs, errors.New("services, health delay and concurrency must not be negative"))
	}
	if c.ExtractRate < 0 || c.DiskCapacity < 0 {
		errs = append(errs, errors.New("extract rate and disk capacity must not be negative"))
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	envs := planEnvs(c.Envs, regionNames(c.Regions))
	for _, d := range c.Discover {
		if !slices.ContainsFunc(envs, func(p envPlan) bool { return p.name == d }) {
			errs = append(errs, fmt.Errorf("discover: unknown environment %q", d))
		}
	}
	errs = append(errs, checkViaRancher(c, envs)...)
	if len(c.WindowsEnvs) > 0 && c.WindowsBuild == "" {
		c.WindowsBuild = DefaultWindowsBuild
	}
	if c.WindowsBuild != "" {
		errs = append(errs, checkWindows(c, envs)...)
	}
	names := regionNames(c.Regions)
	for _, r := range c.ForeignMirror {
		if !slices.Contains(names, r) {
			errs = append(errs, fmt.Errorf("foreign-layers mirror: unknown region %q (regions: %v)", r, names))
		}
	}
	for r := range c.RegionLinks {
		if !slices.Contains(names, r) {
			errs = append(errs, fmt.Errorf("link for unknown region %q (regions: %v)", r, names))
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, errors.Join(errs...)
}

var knownRegions = []string{"eu-west", "us-east", "ap-south", "eu-north", "us-west", "ap-east", "sa-east", "af-south"}

// regionNames names n regions.
func regionNames(n int) []string {
	out := make([]string, 0, n)
	for i := range n {
		if i < len(knownRegions) {
			out = append(out, knownRegions[i])
		} else {
			out = append(out, fmt.Sprintf("region-%d", i+1))
		}
	}
	return out
}

// envPlan is one environment's name, region and wave.
type envPlan struct {
	name, region string
	wave         int
}

// planEnvs names n environments over regions. Names are unique for any n
// and regions: a dmz name taken already (a region's second dmz, say) gets
// the first free suffix -2, -3...
func planEnvs(n int, regions []string) []envPlan {
	out := make([]envPlan, 0, n)
	taken := map[string]bool{}
	for i := range n {
		region := regions[i%len(regions)]
		p := envPlan{region: region, wave: min(i, 3)}
		switch i {
		case 0:
			p.name = "dev"
		case 1:
			p.name = "qa"
		case 2:
			p.name = "demo"
		default:
			p.name = "dmz-" + region
		}
		for k, base := 2, p.name; taken[p.name]; k++ {
			p.name = fmt.Sprintf("%s-%d", base, k)
		}
		taken[p.name] = true
		out = append(out, p)
	}
	return out
}

// hostName names environment env's host i (from 0): env-01, env-02...
// Unique across environments, since environment names are and the suffix
// is digits only.
func hostName(env string, i int) string { return fmt.Sprintf("%s-%02d", env, i+1) }
