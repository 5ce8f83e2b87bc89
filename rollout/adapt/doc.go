// Package adapt connects the rollout engine to the world: [RancherProject]
// implements rollout.Rancher, and [Connections.Connect] is a
// rollout.Connector, over the typed Cattle client in rancher (one client
// per environment, resolved by rancher.Resolve, the same rule prewarm's
// commands use); [HostPresence] implements rollout.Presence and
// rollout.Puller with fleet's own check and puller (the ones prewarm status
// and prewarm pull use); the environment lease (rancher/lease) and the
// run's webhook notifications (internal/notify) are adapted here too.
//
// The engine (package rollout) declares those interfaces and imports only
// inventory; this package is the one place that imports rollout, rancher
// and fleet together. cmd/rollout builds the adapters from flags and the
// inventory and hands them to the engine.
//
// Errors the Rancher server refused (a 4xx other than 409) come back
// wrapped with rollout.ErrRejected (and rollout.ErrActionNotAvailable or
// rollout.ErrNotFound) so the engine can decide without knowing the
// client's types; the client's own error stays in the chain.
//
// Concurrency: a RancherProject, Connections and HostPresence are safe for
// concurrent use. What it never does: retry (the client and the engine
// decide that), print, or read credentials other than through the
// variables the inventory names and the documented $RANCHER_* fallbacks.
package adapt
