package notify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Format is a webhook's body format.
type Format string

// Formats.
const (
	// JSON posts the Event as a JSON object.
	JSON Format = "json"
	// Slack posts {"text": ..., "blocks": [...]} for a Slack-compatible
	// incoming webhook (Slack, Mattermost, Rocket.Chat).
	Slack Format = "slack"
)

// ParseFormat returns the format named s ("json" or "slack").
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case JSON, Slack:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: want json or slack", s)
}

// GuessFormat is the format of a webhook URL given without one: slack for
// Slack's incoming webhooks (hooks.slack.com), json otherwise.
func GuessFormat(rawURL string) Format {
	u, err := url.Parse(rawURL)
	if err == nil && (u.Hostname() == "hooks.slack.com" || strings.HasSuffix(u.Hostname(), ".hooks.slack.com")) {
		return Slack
	}
	return JSON
}

// body renders ev in format f.
func body(f Format, ev Event) ([]byte, error) {
	if f == Slack {
		return json.Marshal(slackBody(ev))
	}
	return json.Marshal(ev)
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackBody is the title as text (what notifications show), and blocks: a
// section with the title, one with the commands to run, and a context line
// (who, when, the event's kind).
func slackBody(ev Event) slackMessage {
	title := ev.Title()
	m := slackMessage{Text: title}
	m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackEscape(title)}})
	if len(ev.EnvDurations) > 0 {
		var b strings.Builder
		for _, env := range sortedKeys(ev.EnvDurations) {
			fmt.Fprintf(&b, "• %s: %s\n", slackEscape(env), ev.EnvDurations[env])
		}
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: strings.TrimSuffix(b.String(), "\n")}})
	}
	if len(ev.Commands) > 0 {
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn",
			Text: "Run:\n```\n" + slackEscape(strings.Join(ev.Commands, "\n")) + "\n```"}})
	}
	ctx := string(ev.Kind)
	if ev.Who != "" {
		ctx += " · " + ev.Who
	}
	if !ev.Time.IsZero() {
		ctx += " · " + ev.Time.UTC().Format("2006-01-02 15:04:05Z")
	}
	m.Blocks = append(m.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: slackEscape(ctx)}}})
	return m
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
