package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/notify"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/prewarm"
)

// notifyRun sends prewarm-finished or prewarm-failed (the hosts not ready,
// by name) to the inventory's webhooks and --notify, and waits for them
// (bounded by --notify-timeout). An inventory that does not load leaves
// only --notify: the run's own error says what is wrong with it.
func notifyRun(env *cli.Env, nf *cli.NotifyFlags, release string, started time.Time, rr *prewarm.Report, err error) {
	inv, lerr := inventory.LoadFile(env.ConfigPath())
	if lerr != nil {
		inv = nil
	}
	n, serr := nf.Start(env, inv)
	if serr != nil {
		env.Logger.Warn("notifications off", "err", serr)
		return
	}
	defer nf.Close(env, n)
	ev := notify.Event{Kind: notify.PrewarmFinished, Tool: "prewarm", Command: "run", Who: notify.Who(), Release: release,
		Duration: notify.Duration(time.Since(started)), Summary: "every host ready"}
	if rr != nil && rr.Pull != nil {
		ev.Summary = fmt.Sprintf("all %d hosts ready", len(rr.Pull.Hosts))
	}
	if err != nil {
		ev.Kind, ev.Exit, ev.Summary = notify.PrewarmFailed, cli.ExitFailed, ""
		if ee := (*cli.ExitError)(nil); errors.As(err, &ee) {
			ev.Exit = ee.Code
		}
		if rr != nil {
			ev.NotReady = rr.NotReady
		}
		if rr == nil || len(rr.NotReady) == 0 {
			ev.Reason = err.Error()
		}
	}
	n.Send(ev)
}
