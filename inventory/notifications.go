package inventory

import (
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
}

// notifications checks the notifications block: an env var name, a known
// format, known events, each once.
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
	}
}

// Webhooks are the notifications as notify targets, URLs read with getenv.
// unset lists the env vars that are empty (their webhooks are left out).
func (inv *Inventory) Webhooks(getenv func(string) string) (targets []notify.Target, unset []string) {
	for _, n := range inv.Notifications {
		url := getenv(n.URLEnv)
		if url == "" {
			unset = append(unset, n.URLEnv)
			continue
		}
		t := notify.Target{Name: "$" + n.URLEnv, URL: url, Format: notify.Format(n.Format)}
		if t.Format == "" {
			t.Format = notify.JSON
		}
		for _, ev := range n.Events {
			t.Events = append(t.Events, notify.Kind(ev))
		}
		targets = append(targets, t)
	}
	return targets, unset
}
