package inventory

import (
	"fmt"
	"net/url"
	"time"
)

// Inventory is one hosts.yaml: the fleet as both tools see it.
//
// After Load, every Environment and Host carries its effective settings:
// the defaults block has been merged down, so consumers never look at
// Defaults themselves.
type Inventory struct {
	Version      int           `yaml:"version" json:"version"`
	Defaults     Defaults      `yaml:"defaults" json:"defaults"`
	Registries   Registries    `yaml:"registries" json:"registries"`
	Rancher      Rancher       `yaml:"rancher" json:"rancher"`
	Environments []Environment `yaml:"environments" json:"environments"`
	// Notifications are the webhooks told about runs (notifications.go).
	Notifications []Notification `yaml:"notifications,omitempty" json:"notifications,omitempty"`

	// File is the path the inventory was read from ("" for a reader).
	File string `yaml:"-" json:"file,omitempty"`

	// pos maps key paths (by index) to the line they were read from; nil
	// when the inventory was built in Go rather than loaded.
	pos positions
}

// Defaults are merged into every environment (and its hosts) that does not
// set the value itself.
type Defaults struct {
	Strategy    Strategy     `yaml:"strategy" json:"strategy"`
	Concurrency int          `yaml:"concurrency" json:"concurrency"`
	Retention   Retention    `yaml:"retention" json:"retention"`
	Pull        Pull         `yaml:"pull" json:"pull"`
	Credentials *Credentials `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	TLS         *TLS         `yaml:"tls,omitempty" json:"tls,omitempty"`
}

// Registries names where CI pushes and the regional mirrors hosts pull from.
type Registries struct {
	Source  Registry            `yaml:"source" json:"source"`
	Regions map[string]Registry `yaml:"regions" json:"regions"`
}

// Registry is one registry endpoint.
type Registry struct {
	// Address is host[:port], e.g. "registry.eu.example.com" or "127.0.0.1:5001".
	Address string `yaml:"address" json:"address"`
	// Insecure allows plain HTTP (and unverified TLS) to this registry.
	Insecure bool `yaml:"insecure" json:"insecure"`
	// Credentials, when set, name env vars holding the username and password;
	// otherwise the docker config / credential helpers are used.
	Credentials *RegistryCredentials `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	// MaxConcurrency bounds concurrent requests (blob uploads, host pulls)
	// against this registry. 0 means the tool's default.
	MaxConcurrency int `yaml:"maxConcurrency,omitempty" json:"maxConcurrency,omitempty"`
	// ForeignLayers (regions only) says whether the mirror copies foreign
	// layers into this region or its hosts fetch them from the vendor's
	// URLs (foreign.go). Load fills in ForeignURLs when unset.
	ForeignLayers ForeignLayers `yaml:"foreignLayers,omitempty" json:"foreignLayers,omitempty"`
}

// RegistryCredentials names where registry credentials come from. Secrets are
// never in the file: only env var names or a docker config path.
type RegistryCredentials struct {
	UsernameEnv  string `yaml:"usernameEnv,omitempty" json:"usernameEnv,omitempty"`
	PasswordEnv  string `yaml:"passwordEnv,omitempty" json:"passwordEnv,omitempty"`
	DockerConfig string `yaml:"dockerConfig,omitempty" json:"dockerConfig,omitempty"`
}

// Rancher is the Rancher 1.6 server.
type Rancher struct {
	URL string `yaml:"url" json:"url"`
	// CACert optionally names a PEM file to verify the server with.
	CACert string `yaml:"caCert,omitempty" json:"caCert,omitempty"`
	// Insecure allows an http:// URL: the API keys then cross the network
	// in clear. Without it an http:// URL (here or in $RANCHER_URL) is refused.
	Insecure bool `yaml:"insecure,omitempty" json:"insecure,omitempty"`
}

// CheckURL checks a Rancher URL (rancher.url, or $RANCHER_URL when the
// inventory names none): http:// or https://, a host, no credentials, and
// http:// only when r.Insecure.
func (r Rancher) CheckURL(s string) error {
	if err := checkRancherURL(s); err != nil {
		return err
	}
	if u, _ := url.Parse(s); u.Scheme == "http" && !r.Insecure {
		return fmt.Errorf("%s is plain HTTP, which would send the API keys in clear: use https://, or set rancher.insecure: true to allow it", u.Redacted())
	}
	return nil
}

// Credentials names the env vars holding a Rancher API key pair.
type Credentials struct {
	AccessKeyEnv string `yaml:"accessKeyEnv" json:"accessKeyEnv"`
	SecretKeyEnv string `yaml:"secretKeyEnv" json:"secretKeyEnv"`
}

// Strategy is Rancher's inServiceStrategy as the inventory sets it.
type Strategy struct {
	BatchSize      int   `yaml:"batchSize" json:"batchSize"`
	IntervalMillis int   `yaml:"intervalMillis" json:"intervalMillis"`
	StartFirst     *bool `yaml:"startFirst" json:"startFirst"`
	// StartFirstServices (stack/service) keep startFirst even when the
	// service publishes a host port and no host is free to start its new
	// container: rollout then refuses (exit 2) instead of upgrading it
	// stop-first.
	StartFirstServices []string `yaml:"startFirstServices,omitempty" json:"startFirstServices,omitempty"`
}

// Retention says how many previous images per repository stay on hosts.
type Retention struct {
	Keep int `yaml:"keep" json:"keep"`
}

// Pull tunes host pulls.
type Pull struct {
	// Timeout bounds one host's pull of one image.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Concurrency bounds concurrent pulls overall.
	Concurrency int `yaml:"concurrency" json:"concurrency"`
}

// Environment is one Rancher environment (project).
type Environment struct {
	Name   string `yaml:"name" json:"name"`
	Region string `yaml:"region" json:"region"`
	// Project is the Rancher project id ("1a5") or name.
	Project     string       `yaml:"project" json:"project"`
	Credentials *Credentials `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	// Wave orders rollout: lower waves go first; one wave's environments go in parallel.
	Wave        int       `yaml:"wave" json:"wave"`
	Strategy    Strategy  `yaml:"strategy" json:"strategy"`
	Concurrency int       `yaml:"concurrency" json:"concurrency"`
	Retention   Retention `yaml:"retention" json:"retention"`
	Pull        Pull      `yaml:"pull" json:"pull"`
	Hosts       []Host    `yaml:"hosts,omitempty" json:"hosts"`
	Discover    *Discover `yaml:"discover,omitempty" json:"discover,omitempty"`
}

// Host is one Docker host.
type Host struct {
	Name string `yaml:"name" json:"name"`
	// Docker is the Engine endpoint: unix:///var/run/docker.sock or tcp://host:2376.
	Docker string            `yaml:"docker" json:"docker"`
	TLS    *TLS              `yaml:"tls,omitempty" json:"tls,omitempty"`
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	// Insecure allows a plaintext tcp:// endpoint that is not on loopback
	// (Docker's unauthenticated port 2375: root on that host for anyone who
	// can reach it). Without it, such an endpoint needs tls.
	Insecure bool `yaml:"insecure,omitempty" json:"insecure,omitempty"`
}

// TLS names client certificate files for a tcp:// Docker endpoint.
type TLS struct {
	CA   string `yaml:"ca" json:"ca"`
	Cert string `yaml:"cert" json:"cert"`
	Key  string `yaml:"key" json:"key"`
	// Verify defaults to true; false skips server verification (never the default).
	Verify *bool `yaml:"verify,omitempty" json:"verify,omitempty"`
}

// Discover finds an environment's hosts in Rancher instead of listing them.
type Discover struct {
	// From is "rancher" (the only source).
	From string `yaml:"from" json:"from"`
	// Docker is a text/template for the endpoint, with fields .AgentIP,
	// .Hostname, .Labels (map). Example: "tcp://{{.AgentIP}}:2376".
	Docker string `yaml:"docker" json:"docker"`
	TLS    *TLS   `yaml:"tls,omitempty" json:"tls,omitempty"`
	// Insecure allows the template to yield plaintext tcp:// endpoints
	// (see Host.Insecure).
	Insecure bool `yaml:"insecure,omitempty" json:"insecure,omitempty"`
}

// Duration is a time.Duration that reads and writes as "90s", "30m".
type Duration time.Duration
