package main

import (
	"context"
	"time"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/rollout"
)

// runFlags are the flags of a command that runs the engine with a report,
// metrics and notifications (apply, rollback).
type runFlags struct {
	sf scopeFlags
	ef engineFlags
	nf cli.NotifyFlags
	rf reportFlags
}

// run is such a command: it checks (when check is set) and loads the
// scope (with images for apply), then runs call on the engine with the
// notifications, the live view and the environments' leases, maps the
// outcome (finish) and writes the report and metrics files whatever
// happened. verb is the command's name.
func (f *runFlags) run(ctx context.Context, env *cli.Env, args []string, verb string, images bool, check func() error,
	call func(*rollout.Engine, context.Context, []rollout.EnvTarget) (*rollout.Report, error),
) (err error) {
	var rep *rollout.Report
	f.rf.started = time.Now()
	defer func() { err = f.rf.write(rep, err) }()
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	w, err := f.sf.load(env, args, images)
	if err != nil {
		return err
	}
	// The engine first: on a terminal it puts env.Logger above the live
	// table, and the notifier's warnings must go there too.
	var rn *runNotifier
	f.ef.onEvent = func(ev rollout.Event) { rn.Event(ev) }
	e, done, err := f.ef.engine(env, w)
	if err != nil {
		return err
	}
	if rn, err = newRunNotifier(env, &f.nf, w, verb, &f.sf); err != nil {
		done()
		return err
	}
	ctx, release, err := hold(ctx, env, w, verb, &f.sf)
	if err != nil {
		// Not started (another run holds an environment, or the lease
		// could not be taken): no run-started without its run-finished.
		done()
		return rn.finished(nil, err)
	}
	defer release()
	rn.Started()
	rep, err = call(e, ctx, w.targets)
	done()
	return rn.finished(rep, finish(env, rep, err, verb, &f.sf))
}
