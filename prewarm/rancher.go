package prewarm

import (
	"context"
	"fmt"

	"github.com/drover-dev/drover/rollout/rancher"
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
