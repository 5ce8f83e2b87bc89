// Package ranchersim is an in-process Rancher 1.6 (Cattle) API server for tests and the lab.
//
// It serves the subset of the v2-beta API that Drover's rollout client uses, following
// the shared notes in rancher-cattle-api.md: HTTP Basic auth with per-environment keys,
// projects, stacks, services, hosts and instances as collections with filters and
// pagination, resources with state-dependent action maps, the full in-service upgrade
// state machine (batches of deployment units, intervalMillis, startFirst, old containers
// stopped and kept, finishupgrade, rollback, cancelupgrade, continueupgrade), healthState,
// and the subscribe websocket with resource.change and ping events.
//
// The simulator acts as the Rancher agent as well: starting a container calls the host's
// [Engine] (implemented by the lab's simulated Docker host), which pulls the image first
// when it is missing, or always with the label io.rancher.container.pull_image=always.
// An upgrade to an image the hosts lack therefore takes the pull time.
//
// # Concurrency
//
// A [Server] is safe for concurrent use. All model state sits behind one mutex; every
// service runs at most one process (a goroutine) at a time, and a new action supersedes
// the running one. Engine calls are made without holding the mutex. All waiting uses the
// time package, so a server started with [WithListener] over a [PipeListener] inside a
// testing/synctest bubble runs on the bubble's fake clock.
//
// # What it never does
//
// It never talks to a real Rancher server or Docker daemon by itself (only through the
// Engine it is given), never persists state across [Server.Close], never creates
// services through the API (the lab creates them with [Project.AddService]), and never
// logs key secrets.
package ranchersim
