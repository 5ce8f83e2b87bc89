package inventory

import (
	"errors"
	"fmt"
)

// The variables every command reads Rancher from when the inventory names
// no URL (rancher.url) or an environment no credentials.
const (
	RancherURLEnv       = "RANCHER_URL"
	RancherAccessKeyEnv = "RANCHER_ACCESS_KEY"
	RancherSecretKeyEnv = "RANCHER_SECRET_KEY"
)

var (
	// ErrNoRancherURL: neither rancher.url nor $RANCHER_URL is set.
	ErrNoRancherURL = errors.New("no Rancher URL")
	// ErrHalfRancherKeys: an environment names no credentials and only
	// one of $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY is set.
	ErrHalfRancherKeys = errors.New("set both $" + RancherAccessKeyEnv + " and $" + RancherSecretKeyEnv)
)

// NamesRancher reports whether the inventory or the environment names a
// Rancher server (rancher.url, else $RANCHER_URL).
func (inv *Inventory) NamesRancher(getenv func(string) string) bool {
	return inv.Rancher.URL != "" || getenv(RancherURLEnv) != ""
}

// RancherURL is the Rancher server every command talks to: rancher.url
// (checked by Validate), else $RANCHER_URL, checked as rancher.url is
// (CheckURL: http:// only with rancher.insecure). Neither is
// ErrNoRancherURL.
func (inv *Inventory) RancherURL(getenv func(string) string) (string, error) {
	if inv.Rancher.URL != "" {
		return inv.Rancher.URL, nil
	}
	u := getenv(RancherURLEnv)
	if u == "" {
		return "", ErrNoRancherURL
	}
	if err := inv.Rancher.CheckURL(u); err != nil {
		return "", fmt.Errorf("$%s: %w", RancherURLEnv, err)
	}
	return u, nil
}

// RancherKeyPair is the key pair every command uses for the environment:
// the variables its credentials name (RancherKeys), else
// $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY, else none ("", "", nil: a
// Rancher without access control answers anonymous requests). Only one of
// the two conventional variables set is ErrHalfRancherKeys.
func (e *Environment) RancherKeyPair(getenv func(string) string) (access, secret string, err error) {
	if e.Credentials != nil {
		return e.RancherKeys(getenv)
	}
	access, secret = getenv(RancherAccessKeyEnv), getenv(RancherSecretKeyEnv)
	if (access == "") != (secret == "") {
		return "", "", ErrHalfRancherKeys
	}
	return access, secret, nil
}

// requireRancher checks, with RequireRancher for every environment and
// with RequireCredentials for those that reach Rancher (discover, docker:
// rancher), that Rancher resolves as every command resolves it
// (RancherURL, RancherKeyPair): a URL here or in $RANCHER_URL, and keys
// from the variables the environment names (checked where named, by
// requireCredentials) or from $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY.
// A command that needs the credentials wants keys: none at all (which
// Resolve takes for a Rancher without access control) is reported here.
func (v *validator) requireRancher() {
	getenv := v.cfg.rancher
	if getenv == nil {
		getenv = v.cfg.getenv
	}
	if getenv == nil {
		return
	}
	envs := loc{"environments", "environments"}
	for i := range v.inv.Environments {
		e := &v.inv.Environments[i]
		var why string
		switch {
		case v.cfg.rancher != nil:
			why = "this command talks to Rancher"
		case e.ViaRancher():
			why = "environment " + e.Name + " reaches its hosts through Rancher"
		case e.Discover != nil:
			why = "environment " + e.Name + " discovers its hosts in Rancher"
		default:
			continue // listed hosts, and this command needs no Rancher
		}
		if v.once("rancher.url") {
			v.rancherURL(getenv, why)
		}
		if e.Credentials != nil {
			continue // named variables: requireCredentials
		}
		cl := envs.index(i, e.Name).field("credentials")
		access, secret, err := e.RancherKeyPair(getenv)
		named := "set accessKeyEnv and secretKeyEnv here or in defaults.credentials"
		if e.ViaRancher() {
			named = "set accessKeyEnv and secretKeyEnv (a key whose role has modifyInfra, e.g. an environment API key) here or in defaults.credentials"
		}
		switch {
		case errors.Is(err, ErrHalfRancherKeys):
			only := RancherAccessKeyEnv
			if getenv(RancherAccessKeyEnv) == "" {
				only = RancherSecretKeyEnv
			}
			v.errorf(cl, "only $%s is set: %v, or %s", only, err, named)
		case err != nil:
			v.errorf(cl, "%v", err)
		case access == "" && secret == "":
			v.errorf(cl, "required to talk to Rancher: %s, or export $%s and $%s", named, RancherAccessKeyEnv, RancherSecretKeyEnv)
		}
	}
}

// rancherURL reports, at rancher.url, a Rancher URL that does not resolve.
func (v *validator) rancherURL(getenv func(string) string, why string) {
	l := loc{"rancher", "rancher"}.field("url")
	switch _, err := v.inv.RancherURL(getenv); {
	case errors.Is(err, ErrNoRancherURL):
		v.errorf(l, "required: %s: set it here or export $%s", why, RancherURLEnv)
	case err != nil:
		v.errorf(l, "%v", err)
	}
}
