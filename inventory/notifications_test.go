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
	targets, unset, err := inv.Webhooks(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
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
		{"insecure not a bool", "  - urlEnv: X\n    insecure: maybe\n", `hosts.yaml:9: notifications[0].insecure: `},
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

// TestNotificationsPlainHTTP: the URL a notification's variable holds may
// be http:// only to loopback or with insecure: true; otherwise Webhooks
// (and validate --require-credentials) refuse it at the urlEnv line, naming
// the variable and never the URL's path or token.
func TestNotificationsPlainHTTP(t *testing.T) {
	t.Parallel()
	base, _, _ := strings.Cut(notifyInventory, "notifications:\n")
	const hooks = "notifications:\n  - urlEnv: SLACK_WEBHOOK_URL\n  - urlEnv: HOOK_URL\n"
	tests := []struct {
		name, hooks, url, want string
	}{
		{"remote http", hooks, "http://hooks.example.com/services/T/B/s3cr3t",
			"hosts.yaml:9: notifications[1].urlEnv: $HOOK_URL: http://hooks.example.com: plain HTTP to a host other than loopback would send the webhook's token in clear: use https://, or set insecure: true on this notification to allow it"},
		{"not a URL", hooks, "hooks.example.com/services/T/B/s3cr3t", "hosts.yaml:9: notifications[1].urlEnv: $HOOK_URL: not an http(s) URL"},
		{"loopback http", hooks, "http://127.0.0.1:8080/services/T/B/s3cr3t", ""},
		{"localhost http", hooks, "http://localhost:8080/services/T/B/s3cr3t", ""},
		{"https", hooks, "https://hooks.example.com/services/T/B/s3cr3t", ""},
		{"insecure: true", hooks + "    insecure: true\n", "http://hooks.example.com/services/T/B/s3cr3t", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv, err := Load(strings.NewReader(base+tt.hooks), "hosts.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if err := inv.Validate(); err != nil {
				t.Fatalf("without RequireCredentials, values are not read: %v", err)
			}
			env := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x", "HOOK_URL": tt.url}
			getenv := func(k string) string { return env[k] }
			targets, _, werr := inv.Webhooks(getenv)
			verr := inv.Validate(RequireCredentials(getenv))
			for _, err := range []error{werr, verr} {
				if tt.want == "" {
					if err != nil {
						t.Errorf("err = %v, want nil", err)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "/services") {
					t.Errorf("err = %v, want %q, without the URL's path", err, tt.want)
				}
			}
			if tt.want != "" {
				if len(targets) != 1 || targets[0].Name != "$SLACK_WEBHOOK_URL" {
					t.Errorf("targets = %+v, want only the https one", targets)
				}
				return
			}
			if len(targets) != 2 || targets[1].Insecure != strings.Contains(tt.hooks, "insecure: true") {
				t.Fatalf("targets = %+v", targets)
			}
			if _, err := notify.New(targets); err != nil {
				t.Errorf("notify.New refuses what Webhooks accepted: %v", err)
			}
		})
	}
}
