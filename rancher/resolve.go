package rancher

import (
	"errors"
	"fmt"

	"github.com/drover-dev/drover/inventory"
)

// ErrNotConfigured marks what keeps a connection from being tried at all:
// no Rancher URL, a key variable the inventory names but the environment
// lacks, an environment not in the inventory. It is a configuration error:
// retrying does not help, and a command exits 2 before any Rancher call.
var ErrNotConfigured = errors.New("rancher is not configured")

// Settings is how one environment of the inventory reaches Rancher. It is
// the one answer both tools use: the inventory describes, Resolve decides.
// String never shows the keys.
type Settings struct {
	Env       string // the environment's name
	URL       string // rancher.url, else $RANCHER_URL
	AccessKey string
	SecretKey string
	CAFile    string // rancher.caCert
	// Project is the environment's project id ("1a5") or name, as the
	// inventory gives it; empty means the key's default project (and,
	// failing that, the environment's name): see ProjectFor.
	Project string
}

// String describes the settings without the keys.
func (s Settings) String() string {
	return fmt.Sprintf("rancher %s project %q (environment %s)", s.URL, s.Project, s.Env)
}

// GoString is String, so that %#v never prints the keys either.
func (s Settings) GoString() string { return s.String() }

// Named reports whether the inventory or the environment names a Rancher
// server (rancher.url, else $RANCHER_URL): the one rule by which a command
// for which Rancher is optional (prewarm seed and prune) decides to read it.
// Resolve then connects as for every command.
func Named(inv *inventory.Inventory, getenv func(string) string) bool {
	return inv.NamesRancher(getenv)
}

// Resolve is environment env's Rancher connection: the URL from rancher.url,
// else $RANCHER_URL (checked like rancher.url: http:// only with
// rancher.insecure); the keys from the variables the environment's
// credentials name, else $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY (none
// at all: a Rancher without access control). The rules are the inventory's
// (Inventory.RancherURL, Environment.RancherKeyPair), which validate
// --require-credentials checks too. Every error wraps ErrNotConfigured and
// names what to set.
func Resolve(inv *inventory.Inventory, env string, getenv func(string) string) (Settings, error) {
	e := inv.Env(env)
	if e == nil {
		return Settings{}, fmt.Errorf("%w: environment %s is not in %s", ErrNotConfigured, env, inv.File)
	}
	u, err := inv.RancherURL(getenv)
	switch {
	case errors.Is(err, inventory.ErrNoRancherURL):
		return Settings{}, fmt.Errorf("%w: environment %s: no Rancher URL: set rancher.url in %s (or $RANCHER_URL)", ErrNotConfigured, env, inv.File)
	case err != nil:
		return Settings{}, fmt.Errorf("%w: environment %s: %w", ErrNotConfigured, env, err)
	}
	access, secret, err := e.RancherKeyPair(getenv)
	switch {
	case errors.Is(err, inventory.ErrHalfRancherKeys):
		return Settings{}, fmt.Errorf("%w: environment %s: %w, or credentials in %s", ErrNotConfigured, env, err, inv.File)
	case err != nil:
		return Settings{}, fmt.Errorf("%w: %w", ErrNotConfigured, err)
	}
	return Settings{Env: env, URL: u, AccessKey: access, SecretKey: secret, CAFile: inv.Rancher.CACert, Project: e.Project}, nil
}

// Client is a client with the settings' URL, keys and CA (opts after them).
func (s Settings) Client(opts ...Option) (*Client, error) {
	if s.CAFile != "" {
		opts = append([]Option{WithCAFile(s.CAFile)}, opts...)
	}
	return New(s.URL, s.AccessKey, s.SecretKey, opts...)
}

// ProjectFor is the project to ask c for: the inventory's (an id or a
// name, matched as Cattle does), else the key's default project, else the
// environment's name.
func (s Settings) ProjectFor(c *Client) string {
	switch {
	case s.Project != "":
		return s.Project
	case c != nil && c.DefaultProject() != "":
		return c.DefaultProject()
	default:
		return s.Env
	}
}

// Connect resolves environment env (Resolve) and returns a client and the
// project to ask it for (ProjectFor).
func Connect(inv *inventory.Inventory, env string, getenv func(string) string, opts ...Option) (*Client, string, error) {
	s, err := Resolve(inv, env, getenv)
	if err != nil {
		return nil, "", err
	}
	c, err := s.Client(opts...)
	if err != nil {
		return nil, "", err
	}
	return c, s.ProjectFor(c), nil
}
