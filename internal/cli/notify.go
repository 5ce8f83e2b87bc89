package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/notify"
	"github.com/drover-dev/drover/inventory"
)

// NotifyFlags are --notify, --notify-format and --notify-timeout: webhooks
// for one run, on top of the inventory's notifications.
type NotifyFlags struct {
	urls    []string
	format  string
	timeout time.Duration
}

// Register adds the flags to fs.
func (f *NotifyFlags) Register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.urls, "notify", nil, "also notify this webhook URL for this run (repeatable; see the inventory's notifications)")
	fs.StringVar(&f.format, "notify-format", "", "--notify's body: json or slack (default: slack for hooks.slack.com, else json)")
	fs.DurationVar(&f.timeout, "notify-timeout", 10*time.Second, "at the end, how long to wait for notifications still queued")
}

// Start returns a notifier for inv's notifications (inv may be nil) and
// --notify. An unset urlEnv is a warning. A URL refused (not http(s), or
// http:// to a host other than loopback, unless the inventory's
// notification says insecure: true) is a usage error that never repeats
// the URL: at the inventory's urlEnv line, or naming --notify.
func (f *NotifyFlags) Start(env *Env, inv *inventory.Inventory) (*notify.Notifier, error) {
	if f.timeout <= 0 {
		return nil, Usage("--notify-timeout %v: must be positive", f.timeout)
	}
	var targets []notify.Target
	if inv != nil {
		var unset []string
		var err error
		targets, unset, err = inv.Webhooks(env.Getenv)
		if err != nil {
			return nil, Usage("%w", err)
		}
		for _, name := range unset {
			env.Logger.Warn("notifications: env var unset, webhook skipped", "urlEnv", name)
		}
	}
	for _, u := range f.urls {
		if err := notify.CheckURL(u, false); errors.Is(err, notify.ErrCleartext) {
			return nil, Usage("--notify: %v: use https://; --notify has no insecure option: to allow plain HTTP, "+
				"export the URL in a variable the inventory's notifications name (urlEnv) and set insecure: true there", err)
		} else if err != nil {
			return nil, Usage("--notify: %v", err)
		}
		t := notify.Target{Name: "--notify", URL: u, Format: notify.GuessFormat(u)}
		if f.format != "" {
			fm, err := notify.ParseFormat(f.format)
			if err != nil {
				return nil, Usage("--notify-format: %v", err)
			}
			t.Format = fm
		}
		targets = append(targets, t)
	}
	n, err := notify.New(targets, notify.WithLogger(env.Logger))
	if err != nil {
		return nil, Usage("%v", err)
	}
	return n, nil
}

// Close waits up to --notify-timeout for queued notifications (even after
// Ctrl-C: the last word is the one worth sending) and warns how many were
// not delivered.
func (f *NotifyFlags) Close(env *Env, n *notify.Notifier) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	n.Close(ctx)
	if failed := n.Failed(); failed > 0 {
		env.Logger.Warn("notifications not delivered", "count", failed)
	}
}
