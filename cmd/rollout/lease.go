package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/drover-dev/drover/rollout/adapt"
	"strings"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/rancher/lease"
	"github.com/drover-dev/drover/rollout"
)

// leases are the environments' one-operator leases, taken in the name of
// this run of the named subcommand.
func leases(env *cli.Env, w *world, name string, sf *scopeFlags) *adapt.Leases {
	args := "--env " + strings.Join(rollout.EnvNames(w.targets), ",")
	if sf != nil && sf.release != "" {
		args += " -f " + cli.Quote(sf.release)
	}
	return w.conns.NewLeases(lease.Local(rollout.CommandLine(commandPrefix(env), name, args)), lease.WithLogger(env.Logger))
}

// hold takes the lease of every environment the run writes to, before any
// write: one held by another run exits 4 naming its holder. release gives
// them back (Ctrl-C and errors included).
func hold(ctx context.Context, env *cli.Env, w *world, name string, sf *scopeFlags) (context.Context, func(), error) {
	run, release, err := rollout.Hold(ctx, leases(env, w, name, sf), rollout.EnvNames(w.targets))
	if errors.Is(err, rollout.ErrHeld) {
		held := "ENV"
		if he := (*lease.HeldError)(nil); errors.As(err, &he) {
			held = he.Env
		}
		return nil, nil, cli.Busy(fmt.Errorf("%w; nothing was changed. If that run is gone (its lease expires within 2 minutes of its last renewal), `%s` removes it", err, rollout.CommandLine(commandPrefix(env), "unlock", "--env "+held)))
	}
	if err != nil {
		return nil, nil, cli.Failed(fmt.Errorf("take the environment lease: %w", err))
	}
	return run, func() {
		if err := release(); err != nil {
			env.Logger.Warn("could not release the environment lease; it expires by itself", "err", err)
		}
	}, nil
}
