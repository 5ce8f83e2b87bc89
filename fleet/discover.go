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
// and each host's endpoint is the environment's discover.docker template
// expanded with its agent IP, hostname and labels. A host Rancher does not
// report active (its agent disconnected or reconnecting, or the host
// deactivated) stays a target but is never dialled: Target.NotActive says
// why, and every verb counts it like an unreachable host. Hosts Rancher
// removed (removing, removed, purging, purged) are not targets. With
// discover.docker "rancher", and for listed hosts that say docker:
// rancher, hosts are reached through Rancher (see ViaRancher) and
// clientFor's client must also be a RancherDockerDialer. Listed
// environments without such hosts cost no Rancher call. Hosts found in
// Rancher whose agent reports free space carry it (Target.Disk).
func Discover(ctx context.Context, inv *inventory.Inventory, sel Selection, clientFor func(env *inventory.Environment) (RancherHosts, string, error)) ([]Target, error) {
	discovered := map[string][]inventory.Host{}
	vias := map[string]map[string]*ViaRancher{}
	found := map[string]*envHosts{}
	var errs []error
	for i := range inv.Environments {
		env := &inv.Environments[i]
		if (env.Discover == nil || len(env.Hosts) > 0) && !env.ViaRancher() || (len(sel.Envs) > 0 && !slices.Contains(sel.Envs, env.Name)) {
			continue
		}
		f, err := discoverEnv(ctx, env, clientFor)
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %s: discover hosts in Rancher: %w", env.Name, err))
			continue
		}
		discovered[env.Name], vias[env.Name], found[env.Name] = f.hosts, f.vias, f
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out, err := targets(inv, sel, discovered, vias)
	for i := range out {
		t := &out[i]
		f := found[t.Env]
		if f == nil {
			continue
		}
		if t.Disk == nil {
			t.Disk = f.disks[t.Name]
		}
		t.NotActive = f.notActive[t.Name]
	}
	return out, err
}

// envHosts is what discoverEnv found of one environment in Rancher, each
// map by host name.
type envHosts struct {
	hosts []inventory.Host
	// vias: how the hosts reached through Rancher are.
	vias map[string]*ViaRancher
	// disks: the free space of hosts discovered by endpoint whose agent
	// reports it.
	disks map[string]*DiskSpace
	// notActive: why a host Rancher does not report active is not reached.
	notActive map[string]*NotActiveError
}

func newEnvHosts() *envHosts {
	return &envHosts{vias: map[string]*ViaRancher{}, disks: map[string]*DiskSpace{}, notActive: map[string]*NotActiveError{}}
}

// discoverEnv lists env's hosts in Rancher.
func discoverEnv(ctx context.Context, env *inventory.Environment, clientFor func(*inventory.Environment) (RancherHosts, string, error)) (*envHosts, error) {
	c, project, err := clientFor(env)
	if err != nil {
		return nil, err
	}
	p, err := c.Project(ctx, project)
	if err != nil {
		return nil, err
	}
	rhs, err := c.Hosts(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	found := newEnvHosts()
	if env.ViaRancher() {
		return found, viaRancherHosts(env, c, rhs, found)
	}
	err = fleetHosts(rhs, env.Name, func(h *rancher.Host, name string, na *NotActiveError) error {
		ep, err := env.Discover.Endpoint(h.AgentIPAddress, name, h.Labels)
		if na != nil {
			// Never dialled: its endpoint is for the report only, and a
			// template it does not fill is no error.
			found.notActive[name] = na
			if err != nil {
				ep = ""
			}
		} else if err != nil {
			return err
		}
		found.hosts = append(found.hosts, inventory.Host{Name: name, Docker: ep, TLS: env.Discover.TLS, Labels: h.Labels})
		if d := rancherDisk(h); d != nil && na == nil {
			found.disks[name] = d
		}
		return nil
	})
	return found, err
}
