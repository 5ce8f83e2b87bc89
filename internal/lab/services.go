package lab

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// ServiceStack is the Rancher stack of the services Config.Services
// creates.
const ServiceStack = "web"

// serviceNames names n services: web/svc01, web/svc02...
func serviceNames(n int) []string {
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, fmt.Sprintf("%s/svc%02d", ServiceStack, i+1))
	}
	return out
}

// startServices creates Config.Services services in every environment,
// running Config.ServiceImage from the environment's region, and waits
// until every one is active. The image is preloaded onto the hosts first
// (manifests read, layer blobs not): hosts that already run a release
// hold it, and filling them is setup, not traffic under test.
func (l *Lab) startServices(ctx context.Context) error {
	cfg := l.cfg
	l.services = map[string][]*ranchersim.Service{}
	if cfg.Services == 0 {
		return nil
	}
	if err := l.preload(ctx); err != nil {
		return err
	}
	hc := ranchersim.WithHealthCheck(cfg.HealthDelay, 1)
	for _, e := range l.envs {
		image := l.regions[e.Region].Addr() + "/" + cfg.ServiceImage
		for i, name := range serviceNames(cfg.Services) {
			opts := []ranchersim.ServiceOption{hc}
			if p := ServicePort(cfg.HostPort, i); p != "" {
				opts = append(opts, ranchersim.WithPorts(p))
			}
			svc, err := l.projects[e.Name].AddService(ServiceStack, name[len(ServiceStack)+1:], image, cfg.ServiceScale, opts...)
			if err != nil {
				return fmt.Errorf("%s: %w", e.Name, err)
			}
			l.services[e.Name] = append(l.services[e.Name], svc)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for env, svcs := range l.services {
		for _, svc := range svcs {
			g.Go(func() error {
				if err := svc.WaitState(gctx, "active"); err != nil {
					return fmt.Errorf("%s: %w", env, err)
				}
				return nil
			})
		}
	}
	return g.Wait()
}

// ServicePort is the launchConfig.ports entry of service i (from 0) when the
// services publish host ports from hostPort (Config.HostPort), "" when they
// do not.
func ServicePort(hostPort, i int) string {
	if hostPort <= 0 {
		return ""
	}
	return fmt.Sprintf("%d:80/tcp", hostPort+i)
}

// preload puts Config.ServiceImage on every host, from its region.
func (l *Lab) preload(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, e := range l.envs {
		image := l.regions[e.Region].Addr() + "/" + l.cfg.ServiceImage
		for _, h := range e.Hosts {
			g.Go(func() error { return l.hosts[h.Name].Preload(gctx, image) })
		}
	}
	return g.Wait()
}

// ServiceNames lists the "stack/service" names every environment runs
// (Config.Services), in order.
func (l *Lab) ServiceNames() []string { return serviceNames(l.cfg.Services) }

// Services lists the Rancher services of environment env (Config.Services),
// in ServiceNames order, for their Status.
func (l *Lab) Services(env string) []*ranchersim.Service {
	return slices.Clone(l.services[env])
}
