package prewarm

import (
	"net/url"
	"slices"
	"strings"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/registry"
)

// OutsideFetch is one environment whose hosts will download an image's
// foreign layers from the vendor's URLs, outside the regional registry:
// its region's registries.regions.NAME.foreignLayers is urls (the default).
type OutsideFetch struct {
	Env    string `json:"env"`
	Region string `json:"region"`
	// Hosts are the environment's listed hosts; nil when they are
	// discovered from Rancher (Discovered).
	Hosts      []string `json:"hosts,omitempty"`
	Discovered bool     `json:"discovered,omitempty"`
	Image      string   `json:"image"`
	Layers     int      `json:"layers"`
	Bytes      int64    `json:"bytes"`
	// From are the URLs' hosts, e.g. "mcr.microsoft.com", sorted.
	From []string `json:"from"`
	// Platforms are the image's index entries holding those layers: only
	// hosts of these platforms download them. Empty when the image is not
	// an index (every host pulling it does).
	Platforms []string `json:"platforms,omitempty"`
}

// FetchesOutside reports whether any environment of envs (all when empty)
// is in a region that leaves foreign layers at their URLs: only then can
// OutsideFetches list anything, and registry.ForeignLayers (another read
// of every source manifest) is worth calling.
func FetchesOutside(inv *inventory.Inventory, envs []string) bool {
	for _, e := range inv.Environments {
		if (len(envs) == 0 || slices.Contains(envs, e.Name)) && !inv.Registries.Regions[e.Region].Mirrors() {
			return true
		}
	}
	return false
}

// OutsideFetches says, for every environment of envs (all when empty)
// whose region leaves foreign layers at their URLs, which images' foreign
// layers its hosts will download from outside. layers comes from
// registry.ForeignLayers. Environments of a foreignLayers: mirror region
// are not listed: their hosts fetch the layers from the region.
func OutsideFetches(inv *inventory.Inventory, envs []string, layers []registry.ForeignLayer) []OutsideFetch {
	var out []OutsideFetch
	for _, e := range inv.Environments {
		if len(envs) > 0 && !slices.Contains(envs, e.Name) {
			continue
		}
		if inv.Registries.Regions[e.Region].Mirrors() {
			continue
		}
		var hosts []string
		for _, h := range e.Hosts {
			hosts = append(hosts, h.Name)
		}
		byImage := map[string]*OutsideFetch{}
		for _, l := range layers {
			f := byImage[l.Image]
			if f == nil {
				f = &OutsideFetch{Env: e.Name, Region: e.Region, Hosts: hosts, Discovered: e.Discover != nil, Image: l.Image}
				byImage[l.Image] = f
			}
			f.Layers++
			f.Bytes += l.Size
			for _, p := range l.Platforms {
				if !slices.Contains(f.Platforms, p) {
					f.Platforms = append(f.Platforms, p)
				}
			}
			for _, raw := range l.URLs {
				if u, err := url.Parse(raw); err == nil && u.Host != "" && !slices.Contains(f.From, u.Host) {
					f.From = append(f.From, u.Host)
				}
			}
		}
		for _, l := range layers { // in the layers' image order
			if f := byImage[l.Image]; f != nil {
				slices.Sort(f.From)
				out = append(out, *f)
				delete(byImage, l.Image)
			}
		}
	}
	return out
}

// HostList says which hosts fetch from outside, as plan and run print it:
// the hosts' names joined by commas, or "(discovered from Rancher)", and
// for an index the platforms whose hosts pull the layers.
func (o OutsideFetch) HostList() string {
	hosts := strings.Join(o.Hosts, ",")
	if o.Discovered {
		hosts = "(discovered from Rancher)"
	}
	if len(o.Platforms) > 0 { // an index: only the hosts pulling these entries
		hosts += " (those running " + strings.Join(o.Platforms, " or ") + ")"
	}
	return hosts
}
