package inventory

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"
	"text/template"

	"github.com/drover-dev/drover/internal/pemfile"
)

// Env returns the environment called name, or nil.
func (inv *Inventory) Env(name string) *Environment {
	for i := range inv.Environments {
		if inv.Environments[i].Name == name {
			return &inv.Environments[i]
		}
	}
	return nil
}

// EnvNames lists the environment names in file order.
func (inv *Inventory) EnvNames() []string {
	names := make([]string, len(inv.Environments))
	for i := range inv.Environments {
		names[i] = inv.Environments[i].Name
	}
	return names
}

// EnvsByWave groups environments by wave, lowest wave first; inside a wave
// they keep file order. The pointers point into inv.
func (inv *Inventory) EnvsByWave() [][]*Environment {
	var waves []int
	for i := range inv.Environments {
		if w := inv.Environments[i].Wave; !slices.Contains(waves, w) {
			waves = append(waves, w)
		}
	}
	slices.Sort(waves)
	out := make([][]*Environment, 0, len(waves))
	for _, w := range waves {
		var group []*Environment
		for i := range inv.Environments {
			if inv.Environments[i].Wave == w {
				group = append(group, &inv.Environments[i])
			}
		}
		out = append(out, group)
	}
	return out
}

// RegistryFor returns the regional registry env pulls from (the zero
// Registry when its region is unknown, which Validate reports).
func (inv *Inventory) RegistryFor(env *Environment) Registry {
	return inv.Registries.Regions[env.Region]
}

// RancherKeys resolves the environment's Rancher API key pair through
// getenv (os.Getenv in the tools). It fails, naming the variable and never
// a value, when credentials are not configured or a variable is empty.
func (e *Environment) RancherKeys(getenv func(string) string) (access, secret string, err error) {
	c := e.Credentials
	if c == nil || c.AccessKeyEnv == "" || c.SecretKeyEnv == "" {
		return "", "", fmt.Errorf("environment %s: no Rancher credentials configured (credentials.accessKeyEnv, secretKeyEnv)", e.Name)
	}
	for _, x := range [][2]string{{"accessKeyEnv", c.AccessKeyEnv}, {"secretKeyEnv", c.SecretKeyEnv}} {
		if err := checkEnvName(x[0], x[1]); err != nil {
			return "", "", fmt.Errorf("environment %s: credentials: %w", e.Name, err)
		}
	}
	access, secret = getenv(c.AccessKeyEnv), getenv(c.SecretKeyEnv)
	switch {
	case access == "":
		return "", "", fmt.Errorf("environment %s: $%s is not set", e.Name, c.AccessKeyEnv)
	case secret == "":
		return "", "", fmt.Errorf("environment %s: $%s is not set", e.Name, c.SecretKeyEnv)
	}
	return access, secret, nil
}

// RegistryAuth is a username and password for a registry. It prints and
// logs with the password redacted.
type RegistryAuth struct {
	Username string
	Password string
}

// String redacts the password.
func (a RegistryAuth) String() string { return a.Username + ":REDACTED" }

// GoString redacts the password (for %#v).
func (a RegistryAuth) GoString() string {
	return fmt.Sprintf("inventory.RegistryAuth{Username: %q, Password: REDACTED}", a.Username)
}

// LogValue redacts the password in slog output.
func (a RegistryAuth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", a.Username), slog.String("password", "REDACTED"))
}

// Auth resolves credentials.usernameEnv and passwordEnv through getenv. It
// returns nil, nil when the registry names no env vars (anonymous, or the
// docker config in credentials.dockerConfig or the default one), and an
// error naming the variable when one is empty.
func (r Registry) Auth(getenv func(string) string) (*RegistryAuth, error) {
	c := r.Credentials
	if c == nil || (c.UsernameEnv == "" && c.PasswordEnv == "") {
		return nil, nil //nolint:nilnil // no env credentials is not an error: docker config or anonymous
	}
	for _, x := range [][2]string{{"usernameEnv", c.UsernameEnv}, {"passwordEnv", c.PasswordEnv}} {
		if err := checkEnvName(x[0], x[1]); err != nil {
			return nil, fmt.Errorf("registry %s: credentials: %w", r.Address, err)
		}
	}
	a := &RegistryAuth{Username: getenv(c.UsernameEnv), Password: getenv(c.PasswordEnv)}
	switch {
	case a.Username == "":
		return nil, fmt.Errorf("registry %s: $%s is not set", r.Address, c.UsernameEnv)
	case a.Password == "":
		return nil, fmt.Errorf("registry %s: $%s is not set", r.Address, c.PasswordEnv)
	}
	return a, nil
}

// discoverData is what a discover.docker template sees.
type discoverData struct {
	AgentIP  string
	Hostname string
	Labels   map[string]string
}

func (d *Discover) template(missingKey string) (*template.Template, error) {
	t, err := template.New("docker").Option("missingkey=" + missingKey).Parse(d.Docker)
	if err != nil {
		return nil, fmt.Errorf("bad template: %w", err)
	}
	return t, nil
}

// Endpoint expands the docker template for one Rancher host (its
// agentIpAddress, hostname and labels) and checks the result is a valid
// unix://, tcp:// or npipe:// endpoint. A label the template names but the host lacks
// is an error.
func (d *Discover) Endpoint(agentIP, hostname string, labels map[string]string) (string, error) {
	t, err := d.template("error")
	if err != nil {
		return "", err
	}
	if labels == nil {
		labels = map[string]string{}
	}
	var b bytes.Buffer
	if err := t.Execute(&b, discoverData{AgentIP: agentIP, Hostname: hostname, Labels: labels}); err != nil {
		return "", fmt.Errorf("docker endpoint for host %s: %w", hostname, err)
	}
	if _, err := parseDockerEndpoint(b.String()); err != nil {
		return "", fmt.Errorf("docker endpoint for host %s: %w", hostname, err)
	}
	return b.String(), nil
}

// sample expands the template for a made-up host, so Validate catches
// unknown fields and results that are not endpoints.
func (d *Discover) sample() (endpoint, error) {
	t, err := d.template("zero")
	if err != nil {
		return endpoint{}, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, discoverData{AgentIP: "10.0.0.1", Hostname: "host-1", Labels: map[string]string{}}); err != nil {
		return endpoint{}, fmt.Errorf("bad template: %w", err)
	}
	ep, err := parseDockerEndpoint(b.String())
	if err != nil {
		return endpoint{}, fmt.Errorf("template yields %w", err)
	}
	return ep, nil
}

// ClientConfig builds the client TLS configuration these files describe:
// the CA to verify the Docker daemon with (system roots when ca is empty),
// and the client certificate. Server verification is on unless verify: false.
func (t *TLS) ClientConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pool, err := loadCAPool(t.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if t.Cert != "" || t.Key != "" {
		pair, err := pemfile.KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("load %s and %s: %w", t.Cert, t.Key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if t.Verify != nil && !*t.Verify {
		cfg.InsecureSkipVerify = true //nolint:gosec // only when the operator wrote verify: false
	}
	return cfg, nil
}
