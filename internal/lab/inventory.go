package lab

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/drover-dev/drover/inventory"
)

// The hosts.yaml the lab writes: only what the lab decides; everything else
// takes the inventory's defaults. Field order is the file's order.
type (
	yInventory struct {
		Version      int            `yaml:"version"`
		Defaults     *yDefaults     `yaml:"defaults,omitempty"`
		Registries   yRegistries    `yaml:"registries"`
		Rancher      yRancher       `yaml:"rancher"`
		Environments []yEnvironment `yaml:"environments"`
	}
	yDefaults struct {
		Strategy    *yStrategy `yaml:"strategy,omitempty"`
		Concurrency int        `yaml:"concurrency,omitempty"`
	}
	yStrategy struct {
		BatchSize      int   `yaml:"batchSize,omitempty"`
		IntervalMillis int   `yaml:"intervalMillis,omitempty"`
		StartFirst     *bool `yaml:"startFirst,omitempty"`
	}
	yRegistries struct {
		Source  yRegistry            `yaml:"source"`
		Regions map[string]yRegistry `yaml:"regions"`
	}
	yRegistry struct {
		Address       string          `yaml:"address"`
		Insecure      bool            `yaml:"insecure"`
		Credentials   *yRegistryCreds `yaml:"credentials,omitempty"`
		ForeignLayers string          `yaml:"foreignLayers,omitempty"`
	}
	yRegistryCreds struct {
		UsernameEnv string `yaml:"usernameEnv"`
		PasswordEnv string `yaml:"passwordEnv"`
	}
	yRancher struct {
		URL      string `yaml:"url,omitempty"`
		Insecure bool   `yaml:"insecure,omitempty"`
	}
	yEnvironment struct {
		Name        string       `yaml:"name"`
		Region      string       `yaml:"region"`
		Wave        int          `yaml:"wave"`
		Credentials yCredentials `yaml:"credentials"`
		Hosts       []yHost      `yaml:"hosts,omitempty"`
		Discover    *yDiscover   `yaml:"discover,omitempty"`
	}
	yDiscover struct {
		From     string `yaml:"from"`
		Docker   string `yaml:"docker"`
		Insecure bool   `yaml:"insecure,omitempty"`
	}
	yCredentials struct {
		AccessKeyEnv string `yaml:"accessKeyEnv"`
		SecretKeyEnv string `yaml:"secretKeyEnv"`
	}
	yHost struct {
		Name   string            `yaml:"name"`
		Docker string            `yaml:"docker"`
		Labels map[string]string `yaml:"labels,omitempty"`
	}
)

// DiscoverTemplate is the Docker endpoint template of environments listed
// in Config.Discover: Rancher knows each host's agent IP (127.0.0.1) and
// its "docker-port" label.
const DiscoverTemplate = `tcp://{{.AgentIP}}:{{or (index .Labels "docker-port") "2375"}}`

const inventoryHeader = `# hosts.yaml for a Drover lab: every registry, Docker host and the Rancher
# server below is a simulator on 127.0.0.1 that lives as long as the lab.
# Registries and the Rancher simulator speak plain HTTP (insecure: true). The Rancher API keys (and
# source registry password, if any) are lab secrets: the environment
# variables named under credentials are set by sourcing the lab's env file
# (lab up --env-file).
`

// InventoryYAML is the lab as a hosts.yaml document.
func (l *Lab) InventoryYAML() []byte {
	regions := map[string]string{}
	for _, n := range l.regionNames {
		regions[n] = l.regions[n].Addr()
	}
	rancherURL := ""
	if l.Rancher != nil {
		rancherURL = l.Rancher.URL()
	}
	return inventoryYAML(l.cfg, l.Source.Addr(), regions, rancherURL, l.envs)
}

// inventoryYAML writes the hosts.yaml of a lab of cfg whose source
// registry, regional registries (region name -> address) and Rancher
// server (none if "") listen where given.
func inventoryYAML(cfg Config, source string, regions map[string]string, rancherURL string, envs []*Env) []byte {
	y := yInventory{
		Version: inventory.Version,
		Registries: yRegistries{
			Source:  yRegistry{Address: source, Insecure: true},
			Regions: map[string]yRegistry{},
		},
	}
	st := cfg.Strategy
	setStrategy := st.BatchSize != 0 || st.IntervalMillis != 0 || st.StartFirst != nil
	if setStrategy || cfg.Concurrency > 0 {
		y.Defaults = &yDefaults{Concurrency: cfg.Concurrency}
		if setStrategy {
			y.Defaults.Strategy = &yStrategy{BatchSize: st.BatchSize, IntervalMillis: st.IntervalMillis, StartFirst: st.StartFirst}
		}
	}
	if cfg.SourceAuth {
		y.Registries.Source.Credentials = &yRegistryCreds{UsernameEnv: SourceUsernameEnv, PasswordEnv: SourcePasswordEnv}
	}
	for n, addr := range regions {
		y.Registries.Regions[n] = yRegistry{Address: addr, Insecure: true}
		if slices.Contains(cfg.ForeignMirror, n) {
			y.Registries.Regions[n] = yRegistry{Address: addr, Insecure: true, ForeignLayers: string(inventory.ForeignMirror)}
		}
	}
	if rancherURL != "" {
		y.Rancher = yRancher{URL: rancherURL, Insecure: true} // the simulator speaks plain HTTP
	}
	for _, e := range envs {
		ye := yEnvironment{Name: e.Name, Region: e.Region, Wave: e.Wave,
			Credentials: yCredentials{AccessKeyEnv: e.AccessKeyEnv, SecretKeyEnv: e.SecretKeyEnv}}
		if slices.Contains(cfg.ViaRancher, e.Name) {
			// No endpoint at all: the tools reach each host through Rancher.
			ye.Discover = &yDiscover{From: "rancher", Docker: inventory.ViaRancher}
		} else if slices.Contains(cfg.Discover, e.Name) {
			// The template's sample run (validation) sees no labels, hence the
			// fallback port; agents are on 127.0.0.1, but validation cannot
			// know that, hence insecure.
			ye.Discover = &yDiscover{From: "rancher", Docker: DiscoverTemplate, Insecure: true}
		} else {
			for _, h := range e.Hosts {
				ye.Hosts = append(ye.Hosts, yHost{Name: h.Name, Docker: h.Endpoint, Labels: h.Labels})
			}
		}
		y.Environments = append(y.Environments, ye)
	}
	var buf bytes.Buffer
	buf.WriteString(inventoryHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	// Encoding plain structs, maps and strings cannot fail.
	_ = enc.Encode(y)
	_ = enc.Close()
	return buf.Bytes()
}

// Inventory is the lab's hosts.yaml as the inventory package loads it
// (defaults merged down), a fresh copy on every call.
func (l *Lab) Inventory() *inventory.Inventory {
	inv, err := inventory.Load(bytes.NewReader(l.InventoryYAML()), "lab")
	if err != nil {
		// The lab writes what the loader reads; a failure is a bug here.
		panic(fmt.Sprintf("lab: inventory does not load: %v", err))
	}
	return inv
}

// WriteInventory writes InventoryYAML to path atomically (a temporary file
// in the same directory, then rename).
func (l *Lab) WriteInventory(path string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".hosts-*.yaml")
	if err != nil {
		return fmt.Errorf("write inventory %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(l.InventoryYAML()); err != nil {
		f.Close()
		return fmt.Errorf("write inventory %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write inventory %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write inventory %s: %w", path, err)
	}
	return nil
}

// WriteEnvFile writes the lab's secrets as shell "export NAME=value" lines
// to path, readable by the owner only.
func (l *Lab) WriteEnvFile(path string) error {
	var buf bytes.Buffer
	buf.WriteString("# Drover lab secrets (Rancher API keys); source this file.\n")
	for _, kv := range l.Environ() {
		buf.WriteString("export " + kv + "\n")
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	return nil
}
