package inventory

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ValidateOption changes what Validate checks beyond the file itself.
type ValidateOption func(*validateConfig) error

type validateConfig struct {
	checkFiles bool
	getenv     func(string) string // RequireCredentials
	rancher    func(string) string // RequireRancher
}

// CheckFiles makes Validate open the files the inventory names (tls ca, cert
// and key, rancher.caCert, dockerConfig) and parse the PEM ones. The
// validate commands and anything about to connect turn it on; tests of the
// example inventory leave it off, since /etc/drover/tls is not on their
// machine. The default is false: Validate reads nothing but the inventory.
func CheckFiles(on bool) ValidateOption {
	return func(c *validateConfig) error {
		c.checkFiles = on
		return nil
	}
}

// RequireCredentials makes every env var the inventory names (Rancher keys,
// registry usernames and passwords) an error when getenv returns "" for it,
// and, for environments that reach Rancher (discover, docker: rancher),
// Rancher as every command resolves it: a URL (rancher.url, else
// $RANCHER_URL, checked alike) and keys (the named variables, else both
// $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY). Use it only in commands
// that need the credentials. The default is to check names only, never
// values: then a URL or keys the environment may supply at run time are
// not required.
func RequireCredentials(getenv func(string) string) ValidateOption {
	return func(c *validateConfig) error {
		if getenv == nil {
			return errors.New("inventory: RequireCredentials(nil)")
		}
		c.getenv = getenv
		return nil
	}
}

// RequireRancher is for commands that talk to Rancher (rollout): what
// RequireCredentials checks of environments that reach Rancher, for every
// environment (a URL, here or in $RANCHER_URL; keys, named here or in
// defaults.credentials and set, or both $RANCHER_ACCESS_KEY and
// $RANCHER_SECRET_KEY). The default is false: an inventory used only by
// prewarm with listed hosts needs no Rancher.
func RequireRancher(getenv func(string) string) ValidateOption {
	return func(c *validateConfig) error {
		if getenv == nil {
			return errors.New("inventory: RequireRancher(nil)")
		}
		c.rancher = getenv
		return nil
	}
}

// Validate checks what the inventory means and reports every problem at
// once: an errors.Join of *FieldError in file order (see FieldErrors). It
// checks names (unique, well formed), regions, registry addresses, the
// Rancher URL, strategy bounds (batchSize >= 1, intervalMillis >= 100,
// Rancher's minimum), Docker endpoints (unix://, tcp:// or npipe://; tcp:// to a
// non-loopback host needs tls or insecure: true), host names and endpoints
// unique across the inventory, tls blocks, discover templates, and env var
// names; options add file and credential checks. A value an environment
// inherits is reported once, where the defaults block sets it.
func (inv *Inventory) Validate(opts ...ValidateOption) error {
	var cfg validateConfig
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return err
		}
	}
	v := &validator{inv: inv, cfg: cfg, hostNames: map[string]loc{}, endpoints: map[string]loc{}, reported: map[string]bool{}}
	v.run()
	return joinSorted(v.errs)
}

type validator struct {
	inv  *Inventory
	cfg  validateConfig
	errs []error

	hostNames map[string]loc // host name -> where first seen
	endpoints map[string]loc // normalized endpoint -> where first seen
	reported  map[string]bool
}

func (v *validator) errorf(l loc, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.inv.File, Line: v.inv.pos.line(l.key), Path: l.show, Msg: fmt.Sprintf(format, args...)})
}

// set reports whether the file set l itself (always true for an inventory
// built in Go), so inherited values are checked once, at the defaults.
func (v *validator) set(l loc) bool {
	return v.inv.pos == nil || v.inv.pos.has(l.key)
}

// where names a first occurrence for "duplicate" messages.
func (v *validator) where(l loc) string {
	if line := v.inv.pos.line(l.key); line > 0 && v.inv.pos.has(l.key) {
		return "line " + strconv.Itoa(line)
	}
	return l.show
}

func (v *validator) run() {
	inv := v.inv
	if inv.Version != Version {
		v.errorf(loc{"version", "version"}, "unsupported version %d (this Drover reads version %d)", inv.Version, Version)
	}
	v.registries()
	v.rancher()
	d := loc{"defaults", "defaults"}
	v.settings(d, inv.Defaults.Strategy, inv.Defaults.Concurrency, inv.Defaults.Retention, inv.Defaults.Pull)
	if inv.Defaults.Credentials != nil {
		v.credentials(d.field("credentials"), inv.Defaults.Credentials)
	}
	if inv.Defaults.TLS != nil {
		v.tls(d.field("tls"), inv.Defaults.TLS)
	}
	envs := loc{"environments", "environments"}
	if len(inv.Environments) == 0 {
		v.errorf(envs, "at least one environment is required")
	}
	names := map[string]loc{}
	for i := range inv.Environments {
		e := &inv.Environments[i]
		el := envs.index(i, e.Name)
		if first, dup := names[e.Name]; dup && e.Name != "" {
			v.errorf(el.field("name"), "duplicate environment %s (first at %s)", quote(e.Name), v.where(first.field("name")))
		} else {
			names[e.Name] = el
		}
		v.environment(el, e)
	}
	v.notifications()
	v.requireCredentials()
	v.requireRancher()
}

func (v *validator) registries() {
	r := &v.inv.Registries
	l := loc{"registries", "registries"}
	src := l.field("source")
	if r.Source.Address == "" {
		v.errorf(src.field("address"), "required: the registry CI pushes to (host[:port])")
	} else {
		v.registry(src, &r.Source)
	}
	if r.Source.ForeignLayers != "" {
		v.errorf(src.field("foreignLayers"), "only regions take foreignLayers (the source holds what CI pushed): move it to registries.regions.NAME")
	}
	regions := l.field("regions")
	if len(r.Regions) == 0 {
		v.errorf(regions, "at least one region is required (name: {address: host[:port]})")
	}
	for _, name := range slices.Sorted(maps.Keys(r.Regions)) {
		rl := regions.field(name)
		if err := checkName(name); err != nil {
			v.errorf(rl, "%v", err)
		}
		reg := r.Regions[name]
		if reg.Address == "" {
			v.errorf(rl.field("address"), "required (host[:port])")
			continue
		}
		v.registry(rl, &reg)
		v.foreignLayers(rl, &reg)
	}
}

func (v *validator) registry(l loc, r *Registry) {
	if err := checkRegistryAddr(r.Address); err != nil {
		v.errorf(l.field("address"), "%v", err)
	}
	if r.MaxConcurrency < 0 {
		v.errorf(l.field("maxConcurrency"), "must be 0 (the tool's default) or more, got %d", r.MaxConcurrency)
	}
	c := r.Credentials
	if c == nil {
		return
	}
	cl := l.field("credentials")
	switch {
	case c.UsernameEnv == "" && c.PasswordEnv == "" && c.DockerConfig == "":
		v.errorf(cl, "empty: set usernameEnv and passwordEnv, or dockerConfig")
	case (c.UsernameEnv == "") != (c.PasswordEnv == ""):
		v.errorf(cl, "usernameEnv and passwordEnv go together")
	case c.UsernameEnv != "" && c.DockerConfig != "":
		v.errorf(cl, "set usernameEnv/passwordEnv or dockerConfig, not both")
	}
	v.envVar(cl.field("usernameEnv"), c.UsernameEnv)
	v.envVar(cl.field("passwordEnv"), c.PasswordEnv)
	if c.DockerConfig != "" && v.cfg.checkFiles {
		if _, err := ReadDockerConfig(c.DockerConfig); err != nil {
			v.errorf(cl.field("dockerConfig"), "%v", err)
		}
	}
}

func (v *validator) rancher() {
	r := &v.inv.Rancher
	l := loc{"rancher", "rancher"}
	if r.URL != "" {
		if err := r.CheckURL(r.URL); err != nil {
			v.errorf(l.field("url"), "%v", err)
		}
	}
	if r.CACert != "" && v.cfg.checkFiles {
		if err := checkCAFile(r.CACert); err != nil {
			v.errorf(l.field("caCert"), "%v", err)
		}
	}
}

// settings checks the merged-down settings; at an environment, only those
// it sets itself (inherited ones were checked at the defaults).
func (v *validator) settings(l loc, s Strategy, conc int, r Retention, p Pull) {
	check := func(key string, bad bool, format string, args ...any) {
		kl := l.field(key)
		if bad && (l.key == "defaults" || v.set(kl)) {
			v.errorf(kl, format, args...)
		}
	}
	check("strategy.batchSize", s.BatchSize < 1, "must be at least 1, got %d", s.BatchSize)
	check("strategy.intervalMillis", s.IntervalMillis < 100, "must be at least 100 (Rancher's minimum), got %d", s.IntervalMillis)
	check("concurrency", conc < 1, "must be at least 1, got %d", conc)
	check("retention.keep", r.Keep < 0, "must be 0 or more, got %d", r.Keep)
	check("pull.timeout", p.Timeout <= 0, "must be positive, got %s", p.Timeout)
	check("pull.concurrency", p.Concurrency < 1, "must be at least 1, got %d", p.Concurrency)
	sf := l.field("strategy.startFirstServices")
	if l.key != "defaults" && !v.set(sf) {
		return
	}
	seen := map[string]loc{}
	for i, name := range s.StartFirstServices {
		il := loc{sf.key + "[" + strconv.Itoa(i) + "]", sf.show + "[" + strconv.Itoa(i) + "]"}
		stack, svc, ok := strings.Cut(name, "/")
		switch {
		case len(name) > 2*MaxNameBytes+1:
			v.errorf(il, "%v", tooLong("service", name))
		case !ok || stack == "" || svc == "" || strings.Contains(svc, "/") || strings.TrimSpace(name) != name:
			v.errorf(il, "want stack/service as Rancher names it (e.g. web/frontend), got %s", quote(name))
		default:
			if first, dup := seen[name]; dup {
				v.errorf(il, "duplicate service %s (first at %s)", quote(name), v.where(first))
			}
			seen[name] = il
		}
	}
}

func (v *validator) credentials(l loc, c *Credentials) {
	if c.AccessKeyEnv == "" {
		v.errorf(l.field("accessKeyEnv"), "required: the env var holding the Rancher access key")
	}
	if c.SecretKeyEnv == "" {
		v.errorf(l.field("secretKeyEnv"), "required: the env var holding the Rancher secret key")
	}
	v.envVar(l.field("accessKeyEnv"), c.AccessKeyEnv)
	v.envVar(l.field("secretKeyEnv"), c.SecretKeyEnv)
}

// envVar checks an env var name's syntax. The value is never echoed: a
// malformed name is most likely a pasted secret.
func (v *validator) envVar(l loc, name string) {
	if name != "" && !isEnvName(name) {
		v.errorf(l, "not an environment variable name (the file holds names such as RANCHER_ACCESS_KEY, never secrets)")
	}
}
