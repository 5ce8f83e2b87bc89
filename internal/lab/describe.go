package lab

// Description is the lab at a glance, for `lab up --json` and demos.
type Description struct {
	Source     string            `json:"source"`
	Regions    map[string]string `json:"regions"` // name -> address
	Rancher    string            `json:"rancher"`
	Envs       []EnvDescription  `json:"environments"`
	Images     []ImageDesc       `json:"images"`
	Services   []string          `json:"services,omitempty"` // stack/service in every environment
	HostsYAML  string            `json:"hostsYaml"`
	SecretEnvs []string          `json:"secretEnvs"` // env var names only, never values
}

// EnvDescription is one environment.
type EnvDescription struct {
	Name   string            `json:"name"`
	Region string            `json:"region"`
	Wave   int               `json:"wave"`
	Hosts  map[string]string `json:"hosts"` // name -> Docker endpoint
}

// ImageDesc is one seeded reference.
type ImageDesc struct {
	Ref       string   `json:"ref"`
	Digest    string   `json:"digest"`
	MediaType string   `json:"mediaType"`
	Size      int64    `json:"size"`
	Layers    []string `json:"layers"`
	Platforms []string `json:"platforms"`
}

// Describe summarises the running lab.
func (l *Lab) Describe() Description {
	d := Description{Source: l.Source.Addr(), Regions: map[string]string{}, Services: l.ServiceNames(), HostsYAML: string(l.InventoryYAML())}
	for _, n := range l.regionNames {
		d.Regions[n] = l.regions[n].Addr()
	}
	if l.Rancher != nil {
		d.Rancher = l.Rancher.URL()
	}
	if l.cfg.SourceAuth {
		d.SecretEnvs = append(d.SecretEnvs, SourceUsernameEnv, SourcePasswordEnv)
	}
	for _, e := range l.envs {
		ed := EnvDescription{Name: e.Name, Region: e.Region, Wave: e.Wave, Hosts: map[string]string{}}
		for _, h := range e.Hosts {
			ed.Hosts[h.Name] = h.Endpoint
		}
		d.Envs = append(d.Envs, ed)
		d.SecretEnvs = append(d.SecretEnvs, e.AccessKeyEnv, e.SecretKeyEnv)
	}
	for _, s := range l.Seeded {
		d.Images = append(d.Images, ImageDesc{Ref: s.Ref, Digest: s.Digest, MediaType: s.MediaType, Size: s.Size, Layers: s.Layers, Platforms: s.Platforms})
	}
	return d
}
