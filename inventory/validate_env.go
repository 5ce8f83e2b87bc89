package inventory

import (
	"maps"
	"slices"
	"strings"
)

func (v *validator) environment(l loc, e *Environment) {
	inv := v.inv
	if e.Name == "" {
		v.errorf(l.field("name"), "required")
	} else if err := checkName(e.Name); err != nil {
		v.errorf(l.field("name"), "%v", err)
	}
	switch _, known := inv.Registries.Regions[e.Region]; {
	case e.Region == "":
		v.errorf(l.field("region"), "required: one of registries.regions (%s)", strings.Join(v.regionNames(), ", "))
	case !known:
		v.errorf(l.field("region"), "unknown region %s (registries.regions has: %s)", quote(e.Region), strings.Join(v.regionNames(), ", "))
	}
	if e.Wave < 0 {
		v.errorf(l.field("wave"), "must be 0 or more, got %d", e.Wave)
	}
	v.settings(l, e.Strategy, e.Concurrency, e.Retention, e.Pull)
	cl := l.field("credentials")
	if e.Credentials != nil && v.set(cl) {
		v.credentials(cl, e.Credentials)
	}
	switch {
	case len(e.Hosts) == 0 && e.Discover == nil:
		v.errorf(l.field("hosts"), "no hosts: list hosts, or set discover to find them in Rancher")
	case len(e.Hosts) > 0 && e.Discover != nil:
		v.errorf(l.field("discover"), "set hosts or discover, not both")
	}
	for i := range e.Hosts {
		v.host(l.field("hosts").index(i, ""), &e.Hosts[i])
	}
	if e.Discover != nil {
		v.discover(l.field("discover"), e.Discover)
	}
}

func (v *validator) regionNames() []string {
	names := slices.Sorted(maps.Keys(v.inv.Registries.Regions))
	if len(names) == 0 {
		return []string{"none"}
	}
	return names
}

func (v *validator) host(l loc, h *Host) {
	switch first, dup := v.hostNames[h.Name]; {
	case h.Name == "":
		v.errorf(l.field("name"), "required")
	case len(h.Name) > MaxNameBytes:
		v.errorf(l.field("name"), "%v", tooLong("host name", h.Name))
	case strings.ContainsAny(h.Name, " \t\n"):
		v.errorf(l.field("name"), "%s: no spaces", quote(h.Name))
	case dup:
		v.errorf(l.field("name"), "duplicate host %s (first at %s)", quote(h.Name), v.where(first.field("name")))
	default:
		v.hostNames[h.Name] = l
	}
	dl := l.field("docker")
	ep, err := parseDockerEndpoint(h.Docker)
	if h.ViaRancher() {
		v.viaRancherHost(l, h)
	} else if err != nil {
		v.errorf(dl, "%v", err)
	} else {
		if first, dup := v.endpoints[ep.key]; dup {
			v.errorf(dl, "endpoint %s already used (first at %s)", clip(h.Docker), v.where(first.field("docker")))
		} else {
			v.endpoints[ep.key] = l
		}
		v.transport(l, ep, h.TLS, h.Insecure)
	}
	if h.TLS != nil && v.set(l.field("tls")) {
		v.tls(l.field("tls"), h.TLS)
	}
	for _, k := range slices.Sorted(maps.Keys(h.Labels)) {
		if k == "" {
			v.errorf(l.field("labels"), "empty label name")
		}
	}
}

// transport checks that an endpoint's security matches its settings.
func (v *validator) transport(l loc, ep endpoint, t *TLS, insecure bool) {
	switch {
	case ep.scheme != "tcp" && t != nil:
		v.errorf(l.field("tls"), "tls applies to tcp:// endpoints only")
	case ep.scheme == "tcp" && t == nil && !insecure && !ep.loopback:
		v.errorf(l.field("docker"), "plaintext tcp:// to a remote host: set tls (ca, cert, key), or insecure: true to allow it")
	}
}

func (v *validator) discover(l loc, d *Discover) {
	if d.From != "rancher" {
		v.errorf(l.field("from"), "want rancher, got %s", quote(d.From))
	}
	dl := l.field("docker")
	if d.ViaRancher() {
		v.viaRancherDiscover(l, d)
	} else if d.Docker == "" {
		v.errorf(dl, `required: an endpoint template such as "tcp://{{.AgentIP}}:2376", or rancher to reach hosts through Rancher`)
	} else if ep, err := d.sample(); err != nil {
		v.errorf(dl, "%v", err)
	} else {
		v.transport(l, ep, d.TLS, d.Insecure)
	}
	if d.TLS != nil && v.set(l.field("tls")) {
		v.tls(l.field("tls"), d.TLS)
	}
}

func (v *validator) tls(l loc, t *TLS) {
	if t.CA == "" && t.Cert == "" && t.Key == "" {
		v.errorf(l, "empty: set ca, and cert and key for client authentication")
		return
	}
	if (t.Cert == "") != (t.Key == "") {
		v.errorf(l, "cert and key go together")
		return
	}
	if !v.cfg.checkFiles {
		return
	}
	if t.CA != "" && v.once("ca:"+t.CA) {
		if err := checkCAFile(t.CA); err != nil {
			v.errorf(l.field("ca"), "%v", err)
		}
	}
	if t.Cert != "" && v.once("pair:"+t.Cert+"\x00"+t.Key) {
		if err := checkKeyPair(t.Cert, t.Key); err != nil {
			v.errorf(l.field("cert"), "%v", err)
		}
	}
}

// requireCredentials checks env vars are set, once per variable, where
// the file names them.
func (v *validator) requireCredentials() {
	if v.cfg.getenv != nil {
		for _, ev := range v.inv.EnvVars() {
			if v.cfg.getenv(ev.Name) == "" {
				v.unset(ev.Name, ev.at)
			}
		}
	}
	if v.cfg.rancher == nil {
		return
	}
	for i := range v.inv.Environments {
		e := &v.inv.Environments[i]
		if e.Credentials == nil {
			continue // reported by environment()
		}
		l := loc{"defaults", "defaults"}.field("credentials")
		if el := (loc{"environments", "environments"}).index(i, e.Name).field("credentials"); v.set(el) {
			l = el
		}
		for _, x := range []struct{ key, name string }{{"accessKeyEnv", e.Credentials.AccessKeyEnv}, {"secretKeyEnv", e.Credentials.SecretKeyEnv}} {
			if x.name != "" && v.cfg.rancher(x.name) == "" {
				v.unset(x.name, l.field(x.key))
			}
		}
	}
}

func (v *validator) unset(name string, l loc) {
	// A malformed name is reported (never echoed) by envVar.
	if isEnvName(name) && v.once("env:"+name) {
		v.errorf(l, "$%s is not set", name)
	}
}

// once reports whether key is new: each file and env var is checked (and
// reported) once, where the file first names it.
func (v *validator) once(key string) bool {
	if v.reported[key] {
		return false
	}
	v.reported[key] = true
	return true
}
