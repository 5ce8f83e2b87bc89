// Package ranchersim is an in-process Rancher 1.6 (Cattle) API server for tests and the lab.
//
// It serves the subset of the v2-beta API that Drover's rollout client uses, following
// the shared notes in rancher-cattle-api.md: HTTP Basic auth with per-environment keys
// (401 for a bad key, 403 for another or an unknown project; project names match in any
// case), the X-API-Schemas header, projects, stacks, services, hosts and
// instances/containers as collections with Cattle's envelope, filters (field=value and field_<modifier>=value) and pagination (limit,
// marker=m<offset>, pagination.next), resources with state-dependent action maps, the
// full in-service upgrade state machine (batches of deployment units, intervalMillis,
// startFirst, old containers stopped and kept, finishupgrade, rollback, cancelupgrade,
// continueupgrade; health waited for only on new-version containers, 45 s each),
// published host ports held per host, healthState (started-once included), generic objects
// (create, list by kind and key, update resourceData, delete; removed ones leave lists at
// once), and the subscribe websocket with resource.change and ping events. Launch configs are kept as the raw JSON a client sent, so fields the
// simulator does not model round-trip unchanged.
//
// The simulator acts as the Rancher agent as well: starting a container calls the host's
// [Engine] (implemented by the lab's simulated Docker host), which pulls the image first
// when it is missing, or always with the label io.rancher.container.pull_image=always.
// An upgrade to an image the hosts lack therefore takes the pull time.
//
// Faults: [WithNeverHealthy] / [Server.SetNeverHealthy] (by image) and
// [Server.SetNeverHealthyServices] (by service: health never comes, upgrades hang in
// "upgrading"), [Server.FailNextAction] (any 4xx or 5xx), [Server.FailRequests]
// (5xx), [Server.Restart] (same port, state kept), [Server.DropWebsockets], and host
// states ([Project.SetHostState]). Engine failures (a pull error) make the process
// fail with transitioning "error" and retry.
//
// # Concurrency
//
// A [Server] is safe for concurrent use. All model state sits behind one mutex; every
// service runs at most one process (a goroutine) at a time, and a new action supersedes
// the running one (which stops at its next step and aborts an in-flight pull). Engine
// calls are made without holding the mutex; the units of one batch start concurrently.
// All waiting uses the time package, so a server started with [WithListener] over a
// [PipeListener] inside a testing/synctest bubble runs on the bubble's fake clock.
// [Server.Close] waits for every goroutine the server started.
//
// # Deviations from Cattle, on purpose
//
//   - Services are created with [Project.AddService], not through the API; POST on a
//     collection answers 405. toServiceStrategy upgrades answer 422 InvalidOption.
//   - Stacks, hosts and containers offer few or no actions: stacks and containers list
//     none, hosts only activate/deactivate and dockersocket (plus no-op update/evacuate).
//     dockersocket tokens are single-use opaque strings, not Cattle's JWTs (valid until expiry).
//     The service link actions (addservicelink, ...) are accepted and do nothing;
//     update (or PUT) acts on scale only.
//   - A 409 Conflict happens only through [Server.FailNextAction] or a PUT on a busy
//     service: one mutex serialises actions, so real races cannot occur.
//   - A health-wait timeout leaves transitioning "yes" with the timeout in
//     transitioningMessage (the service stays "upgrading", as the doc describes);
//     engine errors set transitioning "error". transitioningProgress is always null.
//   - Container health is "initializing" for interval x healthyThreshold after start,
//     then "healthy"; never-healthy containers stay "initializing". There is no
//     unhealthy-after-timeout or recreate strategy. A start_once container exits as
//     soon as it has started.
//   - Published host ports ([WithPorts]) are held from allocation while a container
//     is creating, starting or running, and checked when a new container is placed
//     (PortsConstraint); restarting a stopped container does not check them. The
//     allocation error is PortsConstraint's text; a server using the external
//     scheduler's port reservations may word it differently.
//   - The v1 API is the v2-beta one under /v1 (links keep /v1, stacks also answer as
//     environments); it does not reproduce v1's field names.
//   - Schemas are generated for the served types only. There is no pullTask resource.
//   - Generic objects list no actions, and an account key can create them only below
//     /projects/<id> (Cattle would put one made at the account level in the admin's
//     own account); the _removed list option is not modelled.
//   - Events are only sent for changes made after the subscription; resourceType is
//     the resource's baseType (service, instance, host, stack). A subscriber that
//     falls 4096 events behind is disconnected.
//   - A superseded process cancels an in-flight EnsureImage (a real agent would finish
//     the pull in the background).
//
// # What it never does
//
// It never talks to a real Rancher server or Docker daemon by itself (only through the
// Engine it is given), never persists state across [Server.Close], and never logs key
// secrets.
package ranchersim
