package inventory

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"time"
)

// Built-in defaults: what an environment gets when neither it nor the
// defaults block sets a value.
const (
	DefaultBatchSize       = 1                // strategy.batchSize: containers replaced per batch
	DefaultIntervalMillis  = 2000             // strategy.intervalMillis: pause between batches (Rancher's own default)
	DefaultStartFirst      = true             // strategy.startFirst: start the new container before stopping the old
	DefaultConcurrency     = 2                // concurrency: services upgrading at once in one environment
	DefaultKeep            = 2                // retention.keep: previous images per repository kept on hosts
	DefaultPullTimeout     = 30 * time.Minute // pull.timeout: one host pulling one image
	DefaultPullConcurrency = 4                // pull.concurrency: hosts pulling at once
)

// Version is the inventory and release file version this package reads.
const Version = 1

// Load reads an inventory from r. name is used in messages (usually the
// file's path). Unknown keys, duplicate keys, wrong types and a missing or
// unsupported version are errors: an errors.Join of *FieldError, each naming
// file, line and key path. The defaults block is merged down: every
// Environment and Host carries its effective settings.
//
// Load checks structure only; call Validate for meaning (regions exist,
// endpoints parse, names are unique, ...).
func Load(r io.Reader, name string) (*Inventory, error) {
	return load(r, name, "")
}

// LoadFile is Load from a file. Relative file paths in it (tls files,
// rancher.caCert, dockerConfig) are resolved against the file's directory,
// so the inventory means the same whatever the working directory.
func LoadFile(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	defer f.Close()
	return load(f, path, filepath.Dir(path))
}

// LoadAndValidate is LoadFile then Validate with opts: what every command
// does before it acts. With more than one problem the error starts with
// "FILE: N problems:" and lists them one per line (FieldErrors gets them).
func LoadAndValidate(path string, opts ...ValidateOption) (*Inventory, error) {
	inv, err := LoadFile(path)
	if err != nil {
		return nil, problems(path, err)
	}
	if err := inv.Validate(opts...); err != nil {
		return nil, problems(path, err)
	}
	return inv, nil
}

func load(r io.Reader, name, dir string) (*Inventory, error) {
	root, err := parseDocument(r, name)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(root, name, Version); err != nil {
		return nil, err
	}
	d := &decoder{file: name, pos: positions{"": root.Line}}
	var inv Inventory
	d.decode(root, reflect.ValueOf(&inv).Elem(), loc{})
	if len(d.errs) > 0 {
		return nil, joinSorted(d.errs)
	}
	inv.File = name
	inv.pos = d.pos
	if dir != "" {
		inv.resolvePaths(dir)
	}
	inv.applyDefaults(func(key string, _ bool) bool { return d.pos.has(key) })
	return &inv, nil
}

// ApplyDefaults merges the defaults block, then the built-in defaults, into
// every environment and host, for an Inventory built in Go (Load does it
// itself). Here a zero value means "not set", so an explicit keep: 0 can only
// come from a file. Calling it twice changes nothing.
func (inv *Inventory) ApplyDefaults() {
	inv.applyDefaults(func(_ string, zero bool) bool { return !zero })
}

// applyDefaults merges; set reports whether the file (or the Go value) set key.
func (inv *Inventory) applyDefaults(set func(key string, zero bool) bool) {
	d := &inv.Defaults
	builtin := Defaults{
		Strategy:    Strategy{BatchSize: DefaultBatchSize, IntervalMillis: DefaultIntervalMillis, StartFirst: ptr(DefaultStartFirst)},
		Concurrency: DefaultConcurrency,
		Retention:   Retention{Keep: DefaultKeep},
		Pull:        Pull{Timeout: Duration(DefaultPullTimeout), Concurrency: DefaultPullConcurrency},
	}
	mergeSettings(set, "defaults", &d.Strategy, &d.Concurrency, &d.Retention, &d.Pull, &builtin)
	for name, r := range inv.Registries.Regions {
		if r.ForeignLayers == "" {
			r.ForeignLayers = ForeignURLs
			inv.Registries.Regions[name] = r
		}
	}
	for i := range inv.Environments {
		e := &inv.Environments[i]
		p := "environments[" + strconv.Itoa(i) + "]"
		mergeSettings(set, p, &e.Strategy, &e.Concurrency, &e.Retention, &e.Pull, d)
		if e.Credentials == nil && d.Credentials != nil {
			e.Credentials = ptr(*d.Credentials)
		}
		if e.Project == "" {
			e.Project = e.Name
		}
		for j := range e.Hosts {
			h := &e.Hosts[j]
			if h.TLS == nil && d.TLS != nil && isTCP(h.Docker) && !h.Insecure {
				h.TLS = d.TLS.clone()
			}
		}
		if x := e.Discover; x != nil && x.TLS == nil && d.TLS != nil && !x.Insecure && !x.ViaRancher() {
			x.TLS = d.TLS.clone()
		}
	}
}

// mergeSettings fills the settings under prefix that are not set from src.
func mergeSettings(set func(string, bool) bool, prefix string, s *Strategy, conc *int, r *Retention, p *Pull, src *Defaults) {
	fill := func(dst *int, key string, v int) {
		if !set(prefix+"."+key, *dst == 0) {
			*dst = v
		}
	}
	fill(&s.BatchSize, "strategy.batchSize", src.Strategy.BatchSize)
	fill(&s.IntervalMillis, "strategy.intervalMillis", src.Strategy.IntervalMillis)
	if s.StartFirst == nil && src.Strategy.StartFirst != nil {
		s.StartFirst = ptr(*src.Strategy.StartFirst)
	}
	if s.StartFirstServices == nil {
		s.StartFirstServices = src.Strategy.StartFirstServices
	}
	fill(conc, "concurrency", src.Concurrency)
	fill(&r.Keep, "retention.keep", src.Retention.Keep)
	fill(&p.Concurrency, "pull.concurrency", src.Pull.Concurrency)
	if !set(prefix+".pull.timeout", p.Timeout == 0) {
		p.Timeout = src.Pull.Timeout
	}
}

// resolvePaths makes relative file paths relative to dir.
func (inv *Inventory) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	tls := func(t *TLS) {
		if t != nil {
			abs(&t.CA)
			abs(&t.Cert)
			abs(&t.Key)
		}
	}
	regCreds := func(r *Registry) {
		if r.Credentials != nil {
			abs(&r.Credentials.DockerConfig)
		}
	}
	abs(&inv.Rancher.CACert)
	tls(inv.Defaults.TLS)
	regCreds(&inv.Registries.Source)
	for name, r := range inv.Registries.Regions {
		regCreds(&r)
		inv.Registries.Regions[name] = r
	}
	for i := range inv.Environments {
		e := &inv.Environments[i]
		for j := range e.Hosts {
			tls(e.Hosts[j].TLS)
		}
		if e.Discover != nil {
			tls(e.Discover.TLS)
		}
	}
}

func (t *TLS) clone() *TLS {
	c := *t
	if t.Verify != nil {
		c.Verify = ptr(*t.Verify)
	}
	return &c
}

func ptr[T any](v T) *T { return &v }
