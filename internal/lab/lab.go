package lab

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/internal/lab/registries"
)

// Lab is a running fleet. Its fields are read-only after Start.
type Lab struct {
	cfg Config

	// Source is the registry CI pushes to, seeded with cfg.Images.
	Source *registries.Registry
	// Seeded describes what was pushed to Source.
	Seeded []registries.Seeded

	// Rancher is the Rancher 1.6 simulator; every environment is a project.
	Rancher *ranchersim.Server

	regionNames  []string
	hosts        map[string]*dockersim.Host
	projects     map[string]*ranchersim.Project
	rancherHosts map[string]*ranchersim.Host // the Rancher simulator's view of each host
	regions      map[string]*registries.Registry
	envs         []*Env
	secrets      map[string]string // env var name -> value (Rancher keys)
	services     map[string][]*ranchersim.Service

	closers   []func() error // in start order; Close runs them backwards
	closeOnce sync.Once
	closeErr  error
}

// Env is one environment (Rancher project) of the lab.
type Env struct {
	Name   string
	Region string
	Wave   int
	// AccessKeyEnv and SecretKeyEnv name the env vars holding the project's
	// Rancher API keys (values from Lab.Getenv).
	AccessKeyEnv, SecretKeyEnv string
	Hosts                      []*Host
}

// Host is one simulated Docker host.
type Host struct {
	Name   string
	Env    string
	Region string
	// Endpoint is the Docker endpoint, "tcp://127.0.0.1:port".
	Endpoint string
	Labels   map[string]string
}

// Start starts a lab: source and regional registries, seeded, then hosts
// and the Rancher simulator. On error everything started is closed. ctx
// bounds startup (seeding) only; the lab runs until Close.
func Start(ctx context.Context, cfg Config) (*Lab, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		// Not prefixed "lab: ": the lab command prints its tool name
		// before every error, and config errors name their own flag.
		return nil, configError{err}
	}
	l := &Lab{cfg: cfg, regionNames: regionNames(cfg.Regions), regions: map[string]*registries.Registry{}, secrets: map[string]string{}}
	if err := l.start(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("start: %w", err), l.Close())
	}
	return l, nil
}

func (l *Lab) start(ctx context.Context) error {
	cfg := l.cfg
	var srcOpts []registries.Option
	spec := registries.SeedSpec{
		Images: cfg.Images, Size: cfg.ImageSize, Layers: cfg.Layers, Base: cfg.Base,
		MultiArch: cfg.MultiArch, Foreign: cfg.Foreign,
	}
	if len(cfg.WindowsEnvs) > 0 {
		spec.WindowsBuilds = WindowsBuilds
	}
	if cfg.SourceAuth {
		user, pass := "lab", randomKey(16)
		l.secrets[SourceUsernameEnv], l.secrets[SourcePasswordEnv] = user, pass
		srcOpts = append(srcOpts, registries.WithBasicAuth(user, pass))
		spec.Username, spec.Password = user, pass
	}
	src, err := l.startRegistry(ctx, "source", cfg.SourceLink, srcOpts...)
	if err != nil {
		return err
	}
	l.Source = src
	for _, name := range l.regionNames {
		link := cfg.RegionLink
		if rl, ok := cfg.RegionLinks[name]; ok {
			link = rl
		}
		r, err := l.startRegistry(ctx, name, link)
		if err != nil {
			return err
		}
		l.regions[name] = r
	}
	if l.Seeded, err = registries.Seed(ctx, src.Addr(), spec); err != nil {
		return err
	}
	spec.Username, spec.Password = "", ""
	if !cfg.SeedRegions && cfg.Services > 0 {
		// Only what the services run, as if mirrored before the lab began.
		spec = registries.SeedSpec{Images: []string{cfg.ServiceImage}, Size: cfg.ImageSize, Layers: cfg.Layers, Base: cfg.Base, WindowsBuilds: spec.WindowsBuilds}
	}
	if cfg.SeedRegions || cfg.Services > 0 {
		g, gctx := errgroup.WithContext(ctx)
		for _, name := range l.regionNames {
			g.Go(func() error {
				_, err := registries.Seed(gctx, l.regions[name].Addr(), spec)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	if err := l.startFleet(ctx); err != nil {
		return err
	}
	if err := l.startServices(ctx); err != nil {
		return err
	}
	// Counters start clean and links shape from now on: seeding and the
	// services' first pulls are setup, not traffic under test.
	if err := l.Idle(ctx); err != nil {
		return err
	}
	for _, r := range l.Registries() {
		r.Faults().ResetStats()
	}
	return nil
}

// Env var names of the source registry's credentials (Config.SourceAuth).
const (
	SourceUsernameEnv = "LAB_SOURCE_USERNAME"
	SourcePasswordEnv = "LAB_SOURCE_PASSWORD"
)

func (l *Lab) startRegistry(ctx context.Context, name string, link netem.Link, extra ...registries.Option) (*registries.Registry, error) {
	opts := []registries.Option{registries.WithImpl(l.cfg.Impl), registries.WithLink(link), registries.WithLogger(l.cfg.Logger.With("registry", name))}
	opts = append(opts, extra...)
	if l.cfg.Dir != "" {
		opts = append(opts, registries.WithDir(filepath.Join(l.cfg.Dir, name)))
	}
	r, err := registries.Start(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", name, err)
	}
	l.closers = append(l.closers, r.Close)
	l.cfg.Logger.Debug("registry started", "name", name, "addr", r.Addr())
	return r, nil
}

// Idle waits until no registry is handling a request, so that their logs
// and counters are complete for every response a client has read.
func (l *Lab) Idle(ctx context.Context) error {
	for _, r := range l.Registries() {
		if err := r.Faults().Idle(ctx); err != nil {
			return err
		}
	}
	return nil
}

// RegionNames lists the regions in order.
func (l *Lab) RegionNames() []string { return slices.Clone(l.regionNames) }

// Region is the registry of a region (nil if unknown).
func (l *Lab) Region(name string) *registries.Registry { return l.regions[name] }

// Registries lists the source and then every region's registry.
func (l *Lab) Registries() []*registries.Registry {
	out := []*registries.Registry{l.Source}
	for _, n := range l.regionNames {
		out = append(out, l.regions[n])
	}
	return out
}

// Envs lists the environments in order.
func (l *Lab) Envs() []*Env { return slices.Clone(l.envs) }

// Hosts lists every host, environment by environment.
func (l *Lab) Hosts() []*Host {
	var out []*Host
	for _, e := range l.envs {
		out = append(out, e.Hosts...)
	}
	return out
}

// Getenv returns the lab's secrets by env var name (the Rancher keys the
// inventory names), else "". Tests pass it where a command would read the
// environment (cli.Env.Getenv).
func (l *Lab) Getenv(name string) string { return l.secrets[name] }

// Environ lists the secrets as NAME=value, sorted, for an env file or
// exec.Cmd.Env.
func (l *Lab) Environ() []string {
	out := make([]string, 0, len(l.secrets))
	for k, v := range l.secrets {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// Close stops everything, newest first, and releases every port. It is
// safe to call more than once.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		var errs []error
		for i := len(l.closers) - 1; i >= 0; i-- {
			errs = append(errs, l.closers[i]())
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}
