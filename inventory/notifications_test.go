package inventory

import (
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/notify"
)

const notifyInventory = `version: 1
registries:
  source: {address: "127.0.0.1:5000"}
  regions: {eu: {address: "127.0.0.1:5001"}}
environments:
  - {name: dev, region: eu, hosts: [{name: h1, docker: "unix:///var/run/docker.sock"}]}
notifications:
  - urlEnv: SLACK_WEBHOOK_URL
    format: slack
    events: [needs-human, run-finished]
  - urlEnv: HOOK_URL
`

func TestNotifications(t *testing.T) {
	t.Parallel()
	inv, err := Load(strings.NewReader(notifyInventory), "hosts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x"}
	targets, unset := inv.Webhooks(func(k string) string { return env[k] })
	if len(targets) != 1 || targets[0].Name != "$SLACK_WEBHOOK_URL" || targets[0].Format != notify.Slack ||
		len(targets[0].Events) != 2 || strings.Join(unset, ",") != "HOOK_URL" {
		t.Errorf("Webhooks = %+v, unset %v", targets, unset)
	}
}

func TestNotificationsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "  - urlEnv: X\n    url: https://hooks.slack.com/x\n", `hosts.yaml:9: notifications[0].url: unknown key`},
		{"no urlEnv", "  - format: json\n", "hosts.yaml:8: notifications[0].urlEnv: required"},
		{"url as urlEnv", "  - urlEnv: https://hooks.slack.com/services/T/B/s3cr3t\n", "hosts.yaml:8: notifications[0].urlEnv: not an environment variable name"},
		{"format", "  - urlEnv: X\n    format: teams\n", `hosts.yaml:9: notifications[0].format: unknown format "teams": want json or slack`},
		{"event", "  - urlEnv: X\n    events: [run-started, run-ended]\n", `hosts.yaml:9: notifications[0].events[1]: unknown event "run-ended": want one of run-started,`},
		{"twice", "  - urlEnv: X\n    events: [env-done, env-done]\n", `notifications[0].events[1]: "env-done" listed twice`},
	}
	base, _, _ := strings.Cut(notifyInventory, "notifications:\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv, err := Load(strings.NewReader(base+"notifications:\n"+tt.yaml), "hosts.yaml")
			if err == nil {
				err = inv.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error echoes the secret: %v", err)
			}
		})
	}
}
