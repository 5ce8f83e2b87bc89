// Package dockertest is a conformance suite for Docker Engine API servers,
// driven through the real moby client: Run asserts what Drover relies on
// (ping and version negotiation, pull progress streams and their errors,
// image inspect, tag, list, delete with container conflicts, system df).
// The same suite runs against the lab's simulated hosts (dockersim) and
// against a real dockerd, so a difference between them is a test failure.
//
// Run starts its own registries (go-containerregistry's pkg/registry on
// 127.0.0.1, which dockerd treats as insecure and reaches over HTTP) and
// uses unique repository names per run; it removes the images and
// containers it created, so it is safe on a shared daemon. Subtests run in
// parallel.
package dockertest
