package main

import (
	"errors"
	"strings"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/notify"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// runNotifier sends one apply's or rollback's notifications
// (adapt.RunNotifier) to the webhooks of --notify and the inventory.
type runNotifier struct {
	*adapt.RunNotifier
	env *cli.Env
	nf  *cli.NotifyFlags
	n   *notify.Notifier
}

func newRunNotifier(env *cli.Env, nf *cli.NotifyFlags, w *world, command string, sf *scopeFlags) (*runNotifier, error) {
	n, err := nf.Start(env, w.inv)
	if err != nil {
		return nil, err
	}
	release := strings.Join(append([]string{sf.release}, sf.services...), " ")
	return &runNotifier{adapt.NewRunNotifier(n, command, strings.TrimSpace(release), w.targets), env, nf, n}, nil
}

// finished sends what the report adds, waits for delivery (bounded by
// --notify-timeout) and returns err (the command's) unchanged.
func (r *runNotifier) finished(rep *rollout.Report, err error) error {
	defer r.nf.Close(r.env, r.n)
	if rep == nil {
		return err
	}
	code := cli.ExitOK
	if err != nil {
		code = cli.ExitFailed
		if ee := (*cli.ExitError)(nil); errors.As(err, &ee) {
			code = ee.Code
		}
	}
	r.Finished(rep, code, cli.ExitHuman)
	return err
}

// tee calls a, then b when set.
func tee(a, b func(rollout.Event)) func(rollout.Event) {
	if b == nil {
		return a
	}
	return func(ev rollout.Event) { a(ev); b(ev) }
}
