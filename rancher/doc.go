// Package rancher is a typed client for the Rancher 1.6 (Cattle) API, version
// v2-beta: projects (environments), stacks, services, hosts and containers,
// the service actions of an in-service upgrade (upgrade, finishupgrade,
// rollback, cancelupgrade, ...), and waiting for a service to reach a state.
//
// Both tools import it: rollout through rollout/adapt (the engine's
// Rancher interface over this client), prewarm (through fleet and its
// commands) for host discovery, seeding and pruning. [Resolve] (with
// [Connect], and [Named] for the commands to which Rancher is optional) is
// the one rule for where an environment's Rancher is (URL, keys, project)
// that both follow: inventory describes, rancher connects. It imports
// nothing of either tool. [Client.HostAccess] and [Client.DockerDialer]
// open a host's Docker API through Rancher (package dockersocket, whose
// CheckHost and Refusal classify the access).
//
// A Client is bound to one Rancher server and one API key pair (an account
// key reaching several projects, or an environment key bound to one). Lookups
// follow pagination.next, so collections are returned whole, up to 256 MiB of
// answers per listing (a larger one is an error naming the collection).
// Actions are POSTed to the URL the server lists in the resource's actions
// map; an action missing from that map is refused locally, after one re-read
// of the resource, with an error matching ErrActionNotAvailable (as the
// server's own 422 ActionNotAvailable does). Errors from the server are
// *APIError values; errors.Is(err, ErrNotFound / ErrConflict /
// ErrActionNotAvailable / ErrAuth) is the way to branch on them.
//
// Upgrade copies the service's current launchConfig (and secondary launch
// configs) as raw JSON and changes only imageUuid, so fields this package does
// not model are sent back byte for byte.
//
// WaitFor watches a service through the project's subscribe websocket
// (resource.change events) and falls back to slow polling, backing off
// while the websocket is up; one websocket per project serves every
// concurrent waiter of a Client. After every (re)connect each waiter
// re-reads its resource, and a condition that an event reports as met is
// confirmed with a fresh GET before WaitFor returns, so a late or merged
// event can never end a wait early. WatchInstances follows services'
// containers on the same websocket, and says when its view may have missed
// a change (the stream was down) so that the caller lists them.
//
// Concurrency: a Client is safe for concurrent use by many goroutines. Close
// ends the event subscriptions and waits for their goroutines.
//
// The package never logs or prints the secret key, the Authorization header
// or request bodies; it is quiet unless given a logger (WithLogger), and then
// logs at debug level only. It never sends credentials to a host other than
// the one of the base URL: absolute URLs found in links, actions and
// pagination are re-rooted onto the base URL's scheme and host. TLS
// certificates are verified (WithCAFile adds a private CA).
package rancher
