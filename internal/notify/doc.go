// Package notify delivers run events (a rollout started, a wave started, an
// environment done or failed, a run that needs a human, a run finished, a
// prewarm run finished) to webhooks: a generic JSON body, or a
// Slack-compatible incoming-webhook body (text plus blocks).
//
// Delivery never blocks or fails the run that sends: [Notifier.Send]
// queues the event and returns at once; one goroutine per webhook posts
// its events in order, each attempt bounded by a timeout, retrying
// network errors, 5xx and 429 with exponential backoff. A full queue drops
// the event. [Notifier.Close] waits for the queues to drain until its
// context ends, then gives up on the rest. Every event not delivered is
// logged as a warning and counted ([Notifier.Failed]).
//
// Webhook URLs carry tokens: they never appear in logs or errors. A
// webhook is named by where its URL came from ("$SLACK_WEBHOOK_URL",
// "--notify"), and a *url.Error is reduced to its operation and cause.
//
// A Notifier is safe for concurrent use.
package notify
