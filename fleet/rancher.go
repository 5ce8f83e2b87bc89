package fleet

import (
	"context"
	"fmt"

	"github.com/drover-dev/drover/rancher"
)

// RancherClient is the part of *rancher.Client that RancherImages uses.
type RancherClient interface {
	Project(ctx context.Context, idOrName string) (*rancher.Project, error)
	Services(ctx context.Context, project string) ([]rancher.Service, error)
}

// RancherImages reads environments' images from Rancher. project maps an
// environment name to its Rancher project (id or name, as the inventory's
// environments[].project gives it).
func RancherImages(c RancherClient, project func(env string) string) ServiceImages {
	return rancherImages{c: c, project: project}
}

type rancherImages struct {
	c       RancherClient
	project func(string) string
}

// Deployed is what Rancher runs in an environment: the services' current
// images (primary and sidekicks) and the ones their last in-service
// upgrade would roll back to, each deduplicated in service order.
type Deployed struct {
	Current  []string `json:"current"`
	Previous []string `json:"previous"`
}

// RancherDeployed reads env's services from Rancher (project as in
// RancherImages).
func RancherDeployed(ctx context.Context, c RancherClient, project string) (*Deployed, error) {
	svcs, err := projectServices(ctx, c, project)
	if err != nil {
		return nil, err
	}
	d, _ := deployed(svcs)
	return d, nil
}

// EnvironmentImages returns each service's primary and sidekick images and
// the previous ones of its last in-service upgrade, deduplicated, in
// service order.
func (r rancherImages) EnvironmentImages(ctx context.Context, env string) ([]string, error) {
	name := r.project(env)
	if name == "" {
		return nil, fmt.Errorf("environment %s has no Rancher project", env)
	}
	svcs, err := projectServices(ctx, r.c, name)
	if err != nil {
		return nil, err
	}
	_, all := deployed(svcs)
	return all, nil
}

// projectServices lists the services of project (an id or a name).
func projectServices(ctx context.Context, c RancherClient, project string) ([]rancher.Service, error) {
	p, err := c.Project(ctx, project)
	if err != nil {
		return nil, err
	}
	return c.Services(ctx, p.ID)
}

// deployed walks svcs' launch configs once, in service order (primary,
// sidekicks, then the previous ones of the last in-service upgrade): the
// current and the previous images, each deduplicated, and all of them,
// deduplicated, in the order met.
func deployed(svcs []rancher.Service) (d *Deployed, all []string) {
	const current, previous, listed = 1, 2, 4
	seen := map[string]uint8{}
	d = &Deployed{}
	add := func(lc *rancher.LaunchConfig, list *[]string, bit uint8) {
		if lc == nil {
			return
		}
		ref := lc.Image()
		if ref == "" {
			return
		}
		if seen[ref]&bit == 0 {
			*list = append(*list, ref)
		}
		if seen[ref]&listed == 0 {
			all = append(all, ref)
		}
		seen[ref] |= bit | listed
	}
	for i := range svcs {
		s := &svcs[i]
		add(s.LaunchConfig, &d.Current, current)
		for _, lc := range s.SecondaryLaunchConfigs {
			add(lc, &d.Current, current)
		}
		if s.Upgrade != nil && s.Upgrade.InServiceStrategy != nil {
			st := s.Upgrade.InServiceStrategy
			add(st.PreviousLaunchConfig, &d.Previous, previous)
			for _, lc := range st.PreviousSecondaryLaunchConfigs {
				add(lc, &d.Previous, previous)
			}
		}
	}
	return d, all
}
