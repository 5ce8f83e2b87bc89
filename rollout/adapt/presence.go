package adapt

import (
	"context"
	"fmt"

	"github.com/distribution/reference"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rollout"
)

// HostPresence answers the gate's question with prewarm's own check (the
// one prewarm status makes) and pulls with prewarm's puller (--prewarm).
// A Rancher host is matched to an inventory host by name, or, for an
// environment that discovers its hosts, through the inventory's endpoint
// template.
type HostPresence struct {
	inv  *inventory.Inventory
	opts []fleet.Option
}

// NewHostPresence returns the presence check (and puller) over inv; opts go
// to every prewarm call (auth, timeouts, dialer).
func NewHostPresence(inv *inventory.Inventory, opts ...fleet.Option) *HostPresence {
	return &HostPresence{inv: inv, opts: opts}
}

// Present reports whether host h of env holds img.
func (p *HostPresence) Present(ctx context.Context, env string, h rollout.Host, img rollout.Image) (bool, error) {
	t, li, err := p.target(env, h, img)
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
		return false, fmt.Errorf("host %s: %s", h.Name, c.Error)
	case fleet.StateWrongDigest:
		return false, fmt.Errorf("host %s: %s has another digest (%v)", h.Name, img.Ref, c.Got)
	case fleet.StateMissing:
	}
	return false, nil
}

// Pull pulls img onto host h of env (by digest when known, and tags it with
// the deploy reference).
func (p *HostPresence) Pull(ctx context.Context, env string, h rollout.Host, img rollout.Image) error {
	t, li, err := p.target(env, h, img)
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
func (p *HostPresence) target(env string, h rollout.Host, img rollout.Image) (fleet.Target, inventory.LockImage, error) {
	named, err := reference.ParseNormalizedNamed(img.Ref)
	if err != nil {
		return fleet.Target{}, inventory.LockImage{}, fmt.Errorf("image %q: %w", img.Ref, err)
	}
	li := inventory.LockImage{Name: img.Ref, Ref: img.Ref, Repository: reference.Path(named), Digest: img.Digest}
	if tagged, ok := named.(reference.Tagged); ok {
		li.Tag = tagged.Tag()
	}
	e := p.inv.Env(env)
	if e == nil {
		return fleet.Target{}, li, fmt.Errorf("environment %s: not in the inventory", env)
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
	return t, li, fmt.Errorf("host %s (in Rancher) is not in the inventory for %s", h.Name, env)
}
