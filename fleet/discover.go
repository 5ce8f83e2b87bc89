package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

// RancherHosts is the part of *rancher.Client that Discover uses.
type RancherHosts interface {
	Project(ctx context.Context, idOrName string) (*rancher.Project, error)
	Hosts(ctx context.Context, project string) ([]rancher.Host, error)
}

// Discover is Targets for inventories with environments that say
// `discover: {from: rancher}`: their hosts are listed in Rancher (through
// the client clientFor returns for the environment, with its API keys)
// and each active host's endpoint is the environment's discover.docker
// template expanded with its agent IP, hostname and labels. Inactive hosts
// (disconnected, deactivated) are left out: Rancher schedules nothing on
// them. With discover.docker "rancher", and for listed hosts that say
// docker: rancher, hosts are reached through Rancher (see ViaRancher) and
// clientFor's client must also be a RancherDockerDialer. Listed
// environments without such hosts cost no Rancher call. Hosts found in
// Rancher whose agent reports free space carry it (Target.Disk).
func Discover(ctx context.Context, inv *inventory.Inventory, sel Selection, clientFor func(env *inventory.Environment) (RancherHosts, string, error)) ([]Target, error) {
	discovered := map[string][]inventory.Host{}
	vias := map[string]map[string]*ViaRancher{}
	disks := map[string]map[string]*DiskSpace{}
	var errs []error
	for i := range inv.Environments {
		env := &inv.Environments[i]
		if (env.Discover == nil || len(env.Hosts) > 0) && !env.ViaRancher() || (len(sel.Envs) > 0 && !slices.Contains(sel.Envs, env.Name)) {
			continue
		}
		hosts, via, disk, err := discoverEnv(ctx, env, clientFor)
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %s: discover hosts in Rancher: %w", env.Name, err))
			continue
		}
		discovered[env.Name], vias[env.Name], disks[env.Name] = hosts, via, disk
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out, err := targets(inv, sel, discovered, vias)
	for i := range out {
		if t := &out[i]; t.Disk == nil {
			t.Disk = disks[t.Env][t.Name]
		}
	}
	return out, err
}

// discoverEnv lists env's hosts in Rancher: the hosts, how those reached
// through Rancher are, and the free space of those discovered by endpoint
// whose agent reports it (by host name).
func discoverEnv(ctx context.Context, env *inventory.Environment, clientFor func(*inventory.Environment) (RancherHosts, string, error)) ([]inventory.Host, map[string]*ViaRancher, map[string]*DiskSpace, error) {
	c, project, err := clientFor(env)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := c.Project(ctx, project)
	if err != nil {
		return nil, nil, nil, err
	}
	rhs, err := c.Hosts(ctx, p.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	if env.ViaRancher() {
		hosts, vias, err := viaRancherHosts(env, c, rhs)
		return hosts, vias, nil, err
	}
	disks := map[string]*DiskSpace{}
	var out []inventory.Host
	err = activeHosts(rhs, func(h *rancher.Host, name string) error {
		ep, err := env.Discover.Endpoint(h.AgentIPAddress, name, h.Labels)
		if err != nil {
			return err
		}
		out = append(out, inventory.Host{Name: name, Docker: ep, TLS: env.Discover.TLS, Labels: h.Labels})
		if d := rancherDisk(h); d != nil {
			disks[name] = d
		}
		return nil
	})
	return out, nil, disks, err
}
