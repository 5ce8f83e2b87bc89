package lab

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// RancherHost is the Rancher simulator's host named name (nil if unknown):
// a test can point its dockersocket relay elsewhere with SetDocker, e.g. at
// the machine's real dockerd (ranchersim.DialUnix("/var/run/docker.sock")).
func (l *Lab) RancherHost(name string) *ranchersim.Host { return l.rancherHosts[name] }

// ViaRancher reports whether environment env's hosts are reached through
// Rancher (Config.ViaRancher).
func (l *Lab) ViaRancher(env string) bool { return slices.Contains(l.cfg.ViaRancher, env) }

// checkViaRancher checks Config.ViaRancher names known environments, none of
// them also in Config.Discover.
func checkViaRancher(c Config, envs []envPlan) []error {
	var errs []error
	for _, v := range c.ViaRancher {
		switch {
		case !slices.ContainsFunc(envs, func(p envPlan) bool { return p.name == v }):
			names := make([]string, len(envs))
			for i, p := range envs {
				names[i] = p.name
			}
			errs = append(errs, fmt.Errorf("via-rancher: unknown environment %q (this lab's environments: %s)", v, strings.Join(names, ", ")))
		case slices.Contains(c.Discover, v):
			errs = append(errs, fmt.Errorf("environment %q: give it to discover or to via-rancher, not both", v))
		}
	}
	return errs
}

// DMZ names the environments a lab with envs environments over regions
// regions calls dmz-<region> (the fourth and later; see Config.Envs): the
// ones the demo reaches through Rancher, as production DMZ hosts expose no
// Docker endpoint. Zero counts mean 1, as in Config.
func DMZ(regions, envs int) []string {
	var out []string
	for _, p := range planEnvs(max(envs, 1), regionNames(max(regions, 1))) {
		if p.wave == 3 {
			out = append(out, p.name)
		}
	}
	return out
}
