package fleet

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/drover-dev/drover/inventory"
)

// Target is one Docker host as prewarm sees it: where its Engine API is and
// which regional registry it pulls from.
type Target struct {
	Name   string `json:"name"`
	Env    string `json:"env"`
	Region string `json:"region"`
	// Registry is the region registry's address (host[:port]).
	Registry string `json:"registry"`
	// Docker is the Engine endpoint: unix:///var/run/docker.sock or tcp://host:2376.
	Docker string         `json:"docker"`
	TLS    *inventory.TLS `json:"-"`
	// Rancher, when set, reaches the host through Rancher (Docker is then
	// "rancher"); see ViaRancher.
	Rancher *ViaRancher `json:"-"`
	// Disk, when known, is the host's free space; a pull whose layers
	// outgrow it is stopped early (see NoSpaceError). Nil: unknown.
	Disk *DiskSpace `json:"-"`
	// NotActive, when set, is why Rancher's host is not reached: Rancher
	// does not report it active (see Discover). It is never dialled, and
	// counts like an unreachable host.
	NotActive *NotActiveError `json:"-"`
}

// Selection narrows an inventory to some environments and hosts. Empty
// fields select everything.
type Selection struct {
	Envs  []string
	Hosts []string
}

// ErrNoHosts is returned when a selection matches no host.
var ErrNoHosts = errors.New("no hosts selected")

// Targets lists the hosts of inv that sel selects, each with its region's
// registry. Unknown environment or host names, environments whose region
// has no registry, and environments that discover their hosts in Rancher
// (use Discover for those) are errors, all reported at once.
func Targets(inv *inventory.Inventory, sel Selection) ([]Target, error) {
	return targets(inv, sel, nil, nil)
}

// targets is Targets with the hosts of discover environments already
// listed (by environment name), and the hosts reached through Rancher
// (by environment, then host name).
func targets(inv *inventory.Inventory, sel Selection, discovered map[string][]inventory.Host, vias map[string]map[string]*ViaRancher) ([]Target, error) {
	var errs []error
	seenEnv := map[string]bool{}
	seenHost := map[string]bool{}
	var out []Target
	for _, env := range inv.Environments {
		if len(sel.Envs) > 0 && !slices.Contains(sel.Envs, env.Name) {
			continue
		}
		seenEnv[env.Name] = true
		reg, ok := inv.Registries.Regions[env.Region]
		if !ok || reg.Address == "" {
			errs = append(errs, fmt.Errorf("environment %s: region %q has no registry in registries.regions", env.Name, env.Region))
			continue
		}
		hosts := env.Hosts
		if len(hosts) == 0 && env.Discover != nil {
			found, ok := discovered[env.Name]
			if !ok {
				errs = append(errs, fmt.Errorf("environment %s: hosts are discovered in Rancher (use Discover)", env.Name))
				continue
			}
			hosts = found
		}
		for _, h := range hosts {
			if len(sel.Hosts) > 0 && !slices.Contains(sel.Hosts, h.Name) {
				continue
			}
			seenHost[h.Name] = true
			t := Target{Name: h.Name, Env: env.Name, Region: env.Region, Registry: reg.Address, Docker: h.Docker, TLS: h.TLS}
			if h.ViaRancher() {
				if t.Rancher = vias[env.Name][h.Name]; t.Rancher == nil {
					errs = append(errs, fmt.Errorf("environment %s: host %s is reached through Rancher (use Discover)", env.Name, h.Name))
					continue
				}
				t.Disk = t.Rancher.Disk
			}
			out = append(out, t)
		}
	}
	for _, e := range sel.Envs {
		if !seenEnv[e] {
			errs = append(errs, fmt.Errorf("environment %q is not in the inventory (it has: %s)", e, strings.Join(inv.EnvNames(), ", ")))
		}
	}
	for _, h := range sel.Hosts {
		if !seenHost[h] {
			errs = append(errs, unselectedHost(inv, sel, h))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNoHosts
	}
	return out, nil
}

// RegistryLimits returns the per-registry concurrency limits the inventory
// sets (registries.*.maxConcurrency), keyed by address, for WithRegistryLimits.
func RegistryLimits(inv *inventory.Inventory) map[string]int {
	m := map[string]int{}
	add := func(r inventory.Registry) {
		if r.Address != "" && r.MaxConcurrency > 0 {
			m[r.Address] = r.MaxConcurrency
		}
	}
	add(inv.Registries.Source)
	for _, r := range inv.Registries.Regions {
		add(r)
	}
	return m
}

// unselectedHost is the error for host name, which --hosts named but no
// selected environment has: it names the environments looked in (and
// those that found their hosts in Rancher), and, when another environment
// lists the host, that one.
func unselectedHost(inv *inventory.Inventory, sel Selection, name string) error {
	var other string
	var rancher []string
	for _, env := range inv.Environments {
		selected := len(sel.Envs) == 0 || slices.Contains(sel.Envs, env.Name)
		if selected && len(env.Hosts) == 0 && env.Discover != nil {
			rancher = append(rancher, env.Name)
		}
		if !selected && slices.ContainsFunc(env.Hosts, func(h inventory.Host) bool { return h.Name == name }) {
			other = env.Name
		}
	}
	where := "in no environment of the inventory"
	if len(sel.Envs) > 0 {
		where = "not in environment " + strings.Join(sel.Envs, ", ")
	}
	msg := fmt.Sprintf("host %q is %s", name, where)
	if len(rancher) > 0 {
		msg += fmt.Sprintf(" (nor among the hosts Rancher lists for %s)", strings.Join(rancher, ", "))
	}
	if other != "" {
		msg += fmt.Sprintf("; it is in environment %s: select that one", other)
	}
	return errors.New(msg)
}
