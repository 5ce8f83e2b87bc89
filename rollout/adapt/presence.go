package adapt

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/distribution/reference"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rollout"
)

// HostPresence answers the gate's question with prewarm's own check (the
// one prewarm status makes) and pulls with prewarm's puller (--prewarm).
// A Rancher host is matched to an inventory host by name, or, for an
// environment that discovers its hosts, through the inventory's endpoint
// template. The hosts of an environment that says docker: rancher are
// reached through Rancher's dockersocket relay (see ThroughRancher), as
// prewarm reaches them. Its methods are safe for concurrent use.
type HostPresence struct {
	inv  *inventory.Inventory
	opts []fleet.Option
	// entries are the lock's index entries by digest (UseLock).
	entries map[string][]inventory.LockManifest

	clientFor func(*inventory.Environment) (fleet.RancherHosts, string, error)
	mu        sync.Mutex
	relayed   map[string]*relayedEnv // environment -> its hosts reached through Rancher
}

// relayedEnv is an environment's hosts as fleet.Discover found them, each
// with its Rancher dialer; mu serializes finding them.
type relayedEnv struct {
	mu      sync.Mutex
	targets map[string]fleet.Target // by host name
}

// NewHostPresence returns the presence check (and puller) over inv; opts go
// to every prewarm call (auth, timeouts, dialer).
// Each host's platform is read once for all of p's calls.
func NewHostPresence(inv *inventory.Inventory, opts ...fleet.Option) *HostPresence {
	opts = append([]fleet.Option{fleet.WithHostPlatforms(fleet.NewHostPlatforms())}, opts...)
	return &HostPresence{inv: inv, opts: opts, relayed: map[string]*relayedEnv{}}
}

// UseLock has p check and pull, for an image of lock (matched by digest),
// the index entry each host runs, as prewarm does (fleet.Choose): a host no
// entry fits is an error naming its platform and the index's. A nil lock
// changes nothing. It returns p.
func (p *HostPresence) UseLock(lock *inventory.Lock) *HostPresence {
	if lock == nil {
		return p
	}
	p.entries = map[string][]inventory.LockManifest{}
	for _, im := range lock.Images {
		if e := im.Entries(); len(e) > 0 {
			p.entries[im.Digest] = e
		}
	}
	return p
}

// ThroughRancher has p reach the hosts of environments that say
// docker: rancher (discover: {from: rancher, docker: rancher}, or a listed
// host's docker: rancher) through Rancher: their targets are fleet.Discover's,
// over the clients clientFor returns (Connections.RancherHosts), so the gate
// and --prewarm dial them exactly as prewarm does. Without it such hosts
// are an error. It returns p.
func (p *HostPresence) ThroughRancher(clientFor func(*inventory.Environment) (fleet.RancherHosts, string, error)) *HostPresence {
	p.clientFor = clientFor
	return p
}

// Present reports whether host h of env holds img.
func (p *HostPresence) Present(ctx context.Context, env string, h rollout.Host, img rollout.Image) (bool, error) {
	t, li, err := p.target(ctx, env, h, img)
	if err != nil {
		return false, err
	}
	cells, err := fleet.Check(ctx, t, []inventory.LockImage{li}, p.opts...)
	if err != nil {
		return false, err
	}
	if len(cells) != 1 {
		return false, fmt.Errorf("check %s on %s: %d answers", img.Ref, h.Name, len(cells))
	}
	switch c := cells[0]; c.State {
	case fleet.StatePresent:
		return true, nil
	case fleet.StateUnreachable:
		if fleet.Refused(c.Err()) {
			return false, refusedError{c.Err()}
		}
		return false, fmt.Errorf("host %s unreachable: %s", h.Name, c.Error)
	case fleet.StateWrongDigest:
		return false, fmt.Errorf("host %s: %s has another digest (%v)", h.Name, img.Ref, c.Got)
	case fleet.StateNoPlatform:
		return false, noPlatformError{c.Err()}
	case fleet.StateMissing, fleet.StateWrongPlatform: // a pull fixes both
	}
	return false, nil
}

// refusedError is Rancher refusing the host's Docker API in a way no wait
// changes (fleet.Refused: the key's dockersocket action, the relay's token,
// a ws:// relay URL from an https server; named by fleet with the host, its
// environment and what to change) as the gate's sentinel too
// (rollout.ErrRefused), its message unchanged.
type refusedError struct{ err error }

func (e refusedError) Error() string   { return e.err.Error() }
func (e refusedError) Unwrap() []error { return []error{e.err, rollout.ErrRefused} }

// noPlatformError is fleet's platform miss as the gate's sentinel too
// (rollout.ErrNoPlatform), its message unchanged.
type noPlatformError struct{ err error }

func (e noPlatformError) Error() string   { return e.err.Error() }
func (e noPlatformError) Unwrap() []error { return []error{e.err, rollout.ErrNoPlatform} }

// Pull pulls img onto host h of env (by digest when known, and tags it with
// the deploy reference).
func (p *HostPresence) Pull(ctx context.Context, env string, h rollout.Host, img rollout.Image) error {
	t, li, err := p.target(ctx, env, h, img)
	if err != nil {
		return err
	}
	want := fleet.LockWant(t.Registry, li)
	if img.Digest == "" {
		if want, err = fleet.RefWant(img.Ref); err != nil {
			return err
		}
	}
	_, err = fleet.PullWants(ctx, []fleet.Target{t}, func(fleet.Target) []fleet.Want { return []fleet.Want{want} }, p.opts...)
	return err
}

// target maps a Rancher host to a prewarm target, and img to a lock image
// of the registry its reference names.
func (p *HostPresence) target(ctx context.Context, env string, h rollout.Host, img rollout.Image) (fleet.Target, inventory.LockImage, error) {
	named, err := reference.ParseNormalizedNamed(img.Ref)
	if err != nil {
		return fleet.Target{}, inventory.LockImage{}, fmt.Errorf("image %q: %w", img.Ref, err)
	}
	li := inventory.LockImage{Name: img.Ref, Ref: img.Ref, Repository: reference.Path(named), Digest: img.Digest, Manifests: p.entries[img.Digest]}
	if tagged, ok := named.(reference.Tagged); ok {
		li.Tag = tagged.Tag()
	}
	e := p.inv.Env(env)
	if e == nil {
		return fleet.Target{}, li, fmt.Errorf("environment %s: not in the inventory", env)
	}
	if e.ViaRancher() {
		t, err := p.relayedTarget(ctx, e, h.Name)
		t.Registry = reference.Domain(named)
		return t, li, err
	}
	t := fleet.Target{Name: h.Name, Env: env, Region: e.Region, Registry: reference.Domain(named)}
	for _, ih := range e.Hosts {
		if ih.Name == h.Name {
			t.Docker, t.TLS = ih.Docker, ih.TLS
			return t, li, nil
		}
	}
	if e.Discover != nil {
		ep, err := e.Discover.Endpoint(h.AgentIP, h.Name, h.Labels)
		if err != nil {
			return t, li, err
		}
		t.Docker, t.TLS = ep, e.Discover.TLS
		return t, li, nil
	}
	return t, li, notInInventory(h.Name, env)
}

// notInInventory is the error for host name, which Rancher lists in
// environment env but the inventory does not: rollout.ErrNotInInventory,
// with a message naming both.
func notInInventory(name, env string) error {
	return notInInventoryError{name: name, env: env}
}

type notInInventoryError struct{ name, env string }

func (e notInInventoryError) Error() string {
	return fmt.Sprintf("host %s (in Rancher) is not in the inventory for %s", e.name, e.env)
}
func (e notInInventoryError) Unwrap() error { return rollout.ErrNotInInventory }

// relayedTarget is host name of environment e, an environment with hosts
// reached through Rancher, as fleet.Discover builds it. The environment's
// hosts are listed in Rancher once, and again when name is not among them
// (a host added since).
func (p *HostPresence) relayedTarget(ctx context.Context, e *inventory.Environment, name string) (fleet.Target, error) {
	if p.clientFor == nil {
		return fleet.Target{}, fmt.Errorf("environment %s: its hosts are reached through Rancher (docker: rancher), and this presence check has no Rancher connection", e.Name)
	}
	p.mu.Lock()
	re := p.relayed[e.Name]
	if re == nil {
		re = &relayedEnv{}
		p.relayed[e.Name] = re
	}
	p.mu.Unlock()
	re.mu.Lock()
	defer re.mu.Unlock()
	// A host Rancher did not report active is listed again at every
	// check: its agent may be back.
	if t, ok := re.targets[name]; ok && t.NotActive == nil {
		return t, nil
	}
	ts, err := fleet.Discover(ctx, p.inv, fleet.Selection{Envs: []string{e.Name}}, p.clientFor)
	if err != nil {
		return fleet.Target{}, err
	}
	re.targets = make(map[string]fleet.Target, len(ts))
	for _, t := range ts {
		re.targets[t.Name] = t
	}
	if t, ok := re.targets[name]; ok {
		return t, nil
	}
	if e.Discover == nil && !slices.ContainsFunc(e.Hosts, func(h inventory.Host) bool { return h.Name == name }) {
		// Rancher runs the service there, but the environment lists its
		// hosts and this is not one of them: as for a listed environment
		// reached by endpoint (target), not a Rancher fault.
		return fleet.Target{}, notInInventory(name, e.Name)
	}
	return fleet.Target{}, fmt.Errorf("host %s unreachable: Rancher does not list it in %s (removed, or not yet registered)", name, e.Name)
}
