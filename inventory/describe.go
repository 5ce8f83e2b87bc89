package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"
)

// EnvVar is one environment variable the inventory names for credentials.
type EnvVar struct {
	Name string `json:"name"`
	// UsedBy lists the key paths naming it, e.g. "defaults.credentials.accessKeyEnv".
	UsedBy []string `json:"usedBy"`
	// Set is filled in by Describe: whether the variable has a value.
	Set bool `json:"set"`

	at loc // first place it is named
}

// EnvVars lists the credential env vars the inventory names (each once,
// sorted by name). Values are never read here.
func (inv *Inventory) EnvVars() []EnvVar {
	byName := map[string]*EnvVar{}
	add := func(l loc, name string) {
		if name == "" {
			return
		}
		if ev, ok := byName[name]; ok {
			ev.UsedBy = append(ev.UsedBy, l.show)
			return
		}
		byName[name] = &EnvVar{Name: name, UsedBy: []string{l.show}, at: l}
	}
	reg := func(l loc, r Registry) {
		if c := r.Credentials; c != nil {
			add(l.field("credentials").field("usernameEnv"), c.UsernameEnv)
			add(l.field("credentials").field("passwordEnv"), c.PasswordEnv)
		}
	}
	rancher := func(l loc, c *Credentials) {
		if c != nil {
			add(l.field("accessKeyEnv"), c.AccessKeyEnv)
			add(l.field("secretKeyEnv"), c.SecretKeyEnv)
		}
	}
	regs := loc{"registries", "registries"}
	reg(regs.field("source"), inv.Registries.Source)
	for _, name := range slices.Sorted(maps.Keys(inv.Registries.Regions)) {
		reg(regs.field("regions").field(name), inv.Registries.Regions[name])
	}
	rancher(loc{"defaults", "defaults"}.field("credentials"), inv.Defaults.Credentials)
	for i := range inv.Environments {
		e := &inv.Environments[i]
		cl := loc{"environments", "environments"}.index(i, e.Name).field("credentials")
		if inv.pos == nil || inv.pos.has(cl.key) {
			rancher(cl, e.Credentials)
		}
	}
	out := make([]EnvVar, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, *byName[name])
	}
	return out
}

// Redacted returns a deep copy safe to print. The file holds env var names,
// not secrets; the one place a secret could slip in is a URL with
// user:password, which is replaced by "REDACTED".
func (inv *Inventory) Redacted() *Inventory {
	c := *inv
	// A round trip through JSON is a deep copy of every exported field.
	b, err := json.Marshal(inv)
	if err == nil {
		c = Inventory{}
		if json.Unmarshal(b, &c) != nil {
			c = *inv
		}
	}
	c.pos = inv.pos
	if u, err := url.Parse(c.Rancher.URL); err == nil && u.User != nil {
		u.User = url.User("REDACTED")
		c.Rancher.URL = u.String()
	}
	return &c
}

// Description is what Describe prints with --json.
type Description struct {
	File      string     `json:"file"`
	Inventory *Inventory `json:"inventory"`
	EnvVars   []EnvVar   `json:"envVars"`
}

// Describe writes the effective inventory (defaults merged down) as YAML,
// followed by the credential env vars it names and whether each is set, as
// comments, so the output is itself a loadable inventory; or, with asJSON,
// a Description. It never prints a credential value.
func Describe(w io.Writer, inv *Inventory, getenv func(string) string, asJSON bool) error {
	r := inv.Redacted()
	vars := inv.EnvVars()
	for i := range vars {
		vars[i].Set = getenv != nil && getenv(vars[i].Name) != ""
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(Description{File: inv.File, Inventory: r, EnvVars: vars})
	}
	if _, err := fmt.Fprintf(w, "# Effective inventory from %s (defaults merged down).\n", inv.File); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("describe %s: %w", inv.File, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("describe %s: %w", inv.File, err)
	}
	if len(vars) == 0 {
		_, err := fmt.Fprintln(w, "# Credentials: none named.")
		return err
	}
	fmt.Fprintln(w, "# Credentials (env var names; values are never printed):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range vars {
		state := "unset"
		if v.Set {
			state = "set"
		}
		fmt.Fprintf(tw, "#   %s\t%s\t%s\n", v.Name, state, v.UsedBy[0])
	}
	return tw.Flush()
}
