// Package lab runs a whole Drover fleet inside one process, for tests and
// demos: a source registry, one registry per region, simulated Docker hosts
// grouped in environments, and a Rancher 1.6 simulator that knows every
// environment as a project and every host as an agent. Everything speaks
// real HTTP on 127.0.0.1, so the tools cannot tell the lab from production.
//
// Start builds it from a Config and seeds the source registry with
// deterministic images; Inventory and WriteInventory describe it as a
// hosts.yaml (plain-HTTP registries, loopback tcp:// Docker endpoints, per
// environment Rancher key env var names whose values Getenv and
// WriteEnvFile give). With Config.Services every environment also runs
// Rancher services (web/svc01...) on ServiceImage from its own region,
// health-checked and active before Start returns, so a rollout has
// something to upgrade (its hosts hold the image already: preloaded,
// not pulled, since setup is not traffic under test). Faults: each registry's Faults knobs, each host's
// knobs (DockerHost), the Rancher simulator's knobs, or Inject with a
// Fault parsed from the `lab up --fault` syntax. Network shaping (bandwidth
// and latency per registry and per host) is in process, no root needed.
//
// Registries are distribution v3 by default (see package registries for
// why: ~3x the throughput of go-containerregistry's pkg/registry on this
// machine, blob mounts, concurrent uploads, what production mirrors run).
//
// Concurrency: a Lab is safe for concurrent use after Start; its knobs can
// be turned while traffic flows. Close stops everything and releases every
// port; package labtest wraps Start and Close for tests.
//
// What it never does: listen beyond 127.0.0.1, touch the real Docker
// daemon, need root, or log (Config.Logger, default discard).
package lab
