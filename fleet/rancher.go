package fleet

import (
	"context"
	"fmt"
	"slices"

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
	p, err := c.Project(ctx, project)
	if err != nil {
		return nil, err
	}
	svcs, err := c.Services(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	d := &Deployed{}
	add := func(list *[]string, lc *rancher.LaunchConfig) {
		if lc == nil {
			return
		}
		if ref := lc.Image(); ref != "" && !slices.Contains(*list, ref) {
			*list = append(*list, ref)
		}
	}
	for i := range svcs {
		s := &svcs[i]
		add(&d.Current, s.LaunchConfig)
		for _, lc := range s.SecondaryLaunchConfigs {
			add(&d.Current, lc)
		}
		if s.Upgrade != nil && s.Upgrade.InServiceStrategy != nil {
			st := s.Upgrade.InServiceStrategy
			add(&d.Previous, st.PreviousLaunchConfig)
			for _, lc := range st.PreviousSecondaryLaunchConfigs {
				add(&d.Previous, lc)
			}
		}
	}
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
	p, err := r.c.Project(ctx, name)
	if err != nil {
		return nil, err
	}
	svcs, err := r.c.Services(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	add := func(lc *rancher.LaunchConfig) {
		if lc == nil {
			return
		}
		if ref := lc.Image(); ref != "" && !seen[ref] {
			seen[ref] = true
			out = append(out, ref)
		}
	}
	for i := range svcs {
		s := &svcs[i]
		add(s.LaunchConfig)
		for _, lc := range s.SecondaryLaunchConfigs {
			add(lc)
		}
		if s.Upgrade != nil && s.Upgrade.InServiceStrategy != nil {
			st := s.Upgrade.InServiceStrategy
			add(st.PreviousLaunchConfig)
			for _, lc := range st.PreviousSecondaryLaunchConfigs {
				add(lc)
			}
		}
	}
	return out, nil
}
