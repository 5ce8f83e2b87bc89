package adapt

import (
	"context"
	"errors"
	"fmt"
	"github.com/drover-dev/drover/rollout"
	"time"

	"github.com/drover-dev/drover/rancher/lease"
)

// Leases is the Locker over Rancher: each environment's lease is a
// genericObject in its own project (rancher/lease), reached with the
// environment's URL, keys and CA.
type Leases struct {
	cs     *Connections
	holder lease.Info
	opts   []lease.Option
}

// NewLeases returns the leases of the environments cs connects to, taken in
// the name of holder (lease.Local("rollout apply ...")). opts configure the
// lease managers (logger, TTL).
func (cs *Connections) NewLeases(holder lease.Info, opts ...lease.Option) *Leases {
	return &Leases{cs: cs, holder: holder, opts: opts}
}

// manager connects to env's project and returns its lease manager.
func (ls *Leases) manager(ctx context.Context, env string) (*lease.Manager, error) {
	st, err := ls.cs.settings(env)
	if err != nil {
		return nil, err
	}
	c, err := st.Client(ls.cs.opts...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	p, err := c.Project(ctx, st.ProjectFor(c))
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", env, mapErr(err))
	}
	store, err := lease.NewHTTPStore(c.HTTPClient(), c.BaseURL()+"/projects/"+p.ID, st.AccessKey, st.SecretKey)
	if err != nil {
		return nil, err
	}
	store.SetLogger(ls.cs.logger)
	return lease.New(store, ls.opts...)
}

// Lock implements rollout.Locker.
func (ls *Leases) Lock(ctx context.Context, env string) (rollout.Held, error) {
	m, err := ls.manager(ctx, env)
	if err != nil {
		return nil, err
	}
	l, err := m.Acquire(ctx, env, ls.holder)
	if errors.Is(err, lease.ErrHeld) {
		return nil, fmt.Errorf("%w: %w", rollout.ErrHeld, err)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Inspect returns env's holder, nil when free.
func (ls *Leases) Inspect(ctx context.Context, env string) (*lease.Holder, error) {
	m, err := ls.manager(ctx, env)
	if err != nil {
		return nil, err
	}
	return m.Inspect(ctx, env)
}

// ForceUnlock removes env's lease, live or not, and returns who held it.
func (ls *Leases) ForceUnlock(ctx context.Context, env string) ([]lease.Holder, error) {
	m, err := ls.manager(ctx, env)
	if err != nil {
		return nil, err
	}
	return m.ForceUnlock(ctx, env)
}

// AddHolders sets each environment's Lease in st: who holds it, where,
// which command, since when (or that its holder stopped renewing it).
// Environments whose lease cannot be read say so. A live lease also sets
// Unlock, the command (prefix as rollout.WithCommand's) that removes it.
func (ls *Leases) AddHolders(ctx context.Context, st *rollout.StatusReport, prefix string) error {
	var errs []error
	for i := range st.Envs {
		h, err := ls.Inspect(ctx, st.Envs[i].Env)
		switch {
		case err != nil:
			st.Envs[i].Lease = "lease unknown: " + err.Error()
			errs = append(errs, err)
		case h != nil:
			st.Envs[i].Lease = HolderText(*h)
			if !h.Expired {
				st.Envs[i].Unlock = rollout.CommandLine(prefix, "unlock", "--env "+st.Envs[i].Env)
			}
		}
	}
	return errors.Join(errs...)
}

// HolderText describes a lease holder for a human: its fields are any
// Rancher user's to write, so each is clipped and its control characters
// shown as spaces (lease.Shown).
func HolderText(h lease.Holder) string {
	s := fmt.Sprintf("held by %s on %s running %q since %s (lease %s)", lease.Shown(h.Who), lease.Shown(h.Where), lease.Shown(h.Command),
		h.Since.UTC().Format(time.RFC3339), lease.Shown(h.ID))
	if h.Expired {
		s += ", expired at " + h.ExpiresAt.UTC().Format(time.RFC3339) + ": its holder stopped renewing it; the next run takes it over"
	}
	return s
}
