package inventory

import (
	"errors"
	"fmt"

	"github.com/drover-dev/drover/internal/notify"
)

// Notification is one webhook both tools notify (`notifications:`). The URL
// carries a token, so the file names the env var holding it, never the URL.
type Notification struct {
	// URLEnv names the env var holding the webhook URL. Unset at run time,
	// the webhook is skipped with a warning: a notification never fails a run.
	URLEnv string `yaml:"urlEnv" json:"urlEnv"`
	// Format is json (the default: the event as a JSON object) or slack
	// (a Slack-compatible incoming webhook: text plus blocks).
	Format string `yaml:"format,omitempty" json:"format,omitempty"`
	// Events are the kinds sent (run-started, wave-started, env-done,
	// env-failed, needs-human, run-finished, prewarm-finished,
	// prewarm-failed); empty means all.
	Events []string `yaml:"events,omitempty" json:"events,omitempty"`
	// Insecure allows an http:// URL to a host other than loopback: the
	// token then crosses the network in clear. The default is false: http://
	// only to 127.0.0.0/8, ::1 or localhost, else https://.
	Insecure bool `yaml:"insecure,omitempty" json:"insecure,omitempty"`
}

// notifications checks the notifications block: an env var name, a known
// format, known events, each once; with RequireCredentials, the URL a set
// variable holds, as Webhooks reads it.
func (v *validator) notifications() {
	l := loc{"notifications", "notifications"}
	for i, n := range v.inv.Notifications {
		nl := l.index(i, "")
		if n.URLEnv == "" {
			v.errorf(nl.field("urlEnv"), "required: the env var holding the webhook URL (the URL carries a token: never in this file)")
		}
		v.envVar(nl.field("urlEnv"), n.URLEnv)
		if n.Format != "" {
			if _, err := notify.ParseFormat(n.Format); err != nil {
				v.errorf(nl.field("format"), "%v", err)
			}
		}
		seen := map[string]bool{}
		for j, ev := range n.Events {
			el := nl.field("events").index(j, "")
			if _, err := notify.ParseKind(ev); err != nil {
				v.errorf(el, "%v", err)
			} else if seen[ev] {
				v.errorf(el, "%q listed twice", ev)
			}
			seen[ev] = true
		}
		if v.cfg.getenv != nil && isEnvName(n.URLEnv) {
			if u := v.cfg.getenv(n.URLEnv); u != "" {
				if err := v.inv.checkWebhook(i, n, u); err != nil {
					v.errs = append(v.errs, err)
				}
			}
		}
	}
}

// checkWebhook checks the URL that notification i's variable holds as the
// notifier will (notify.CheckURL): a *FieldError at its urlEnv line naming
// the variable, never the URL beyond its scheme and host.
func (inv *Inventory) checkWebhook(i int, n Notification, url string) error {
	err := notify.CheckURL(url, n.Insecure)
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("$%s: %v", n.URLEnv, err)
	if errors.Is(err, notify.ErrCleartext) {
		msg += ": use https://, or set insecure: true on this notification to allow it"
	}
	l := loc{"notifications", "notifications"}.index(i, "").field("urlEnv")
	return &FieldError{File: inv.File, Line: inv.pos.line(l.key), Path: l.show, Msg: msg}
}

// Webhooks are the notifications as notify targets, URLs read with getenv.
// unset lists the env vars that are empty (their webhooks are left out).
// err joins a *FieldError, at its urlEnv line, for each URL refused (not
// http(s), or http:// to a host other than loopback without insecure:
// true); those webhooks are left out too.
func (inv *Inventory) Webhooks(getenv func(string) string) (targets []notify.Target, unset []string, err error) {
	var errs []error
	for i, n := range inv.Notifications {
		url := getenv(n.URLEnv)
		if url == "" {
			unset = append(unset, n.URLEnv)
			continue
		}
		if err := inv.checkWebhook(i, n, url); err != nil {
			errs = append(errs, err)
			continue
		}
		t := notify.Target{Name: "$" + n.URLEnv, URL: url, Format: notify.Format(n.Format), Insecure: n.Insecure}
		if t.Format == "" {
			t.Format = notify.JSON
		}
		for _, ev := range n.Events {
			t.Events = append(t.Events, notify.Kind(ev))
		}
		targets = append(targets, t)
	}
	return targets, unset, errors.Join(errs...)
}
