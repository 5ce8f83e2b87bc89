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

// startNotify starts the run's notifier for the inventory's webhooks and
// --notify; a refused webhook URL is a usage error (cli.NotifyFlags.Start).
// An inventory that does not load leaves only --notify: the run's own load
// says what is wrong with it.
func startNotify(env *cli.Env, nf *cli.NotifyFlags) (*notify.Notifier, error) {
	inv, err := inventory.LoadFile(env.ConfigPath())
	if err != nil {
		inv = nil
	}
	return nf.Start(env, inv)
}

// notifyRun sends prewarm-finished or prewarm-failed (the hosts not ready,
// by name) to n's webhooks and waits for them (bounded by
// --notify-timeout). A nil n (startNotify refused) sends nothing.
func notifyRun(env *cli.Env, nf *cli.NotifyFlags, n *notify.Notifier, release string, started time.Time, rr *prewarm.Report, err error) {
	if n == nil {
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
