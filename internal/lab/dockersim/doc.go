// Package dockersim simulates Docker hosts for the lab: each Host is an
// Engine API server on 127.0.0.1 that the real moby client (and so Drover's
// prewarm) cannot tell from dockerd 20.10 for the calls Drover makes:
// /_ping, /version, /info, images/create (pull, with the classic store's
// progress stream), image inspect, tag, list and delete, system/df, and a
// minimal container API (create, start, stop, remove, list).
//
// A pull really fetches manifests and blobs from the named registry over
// HTTP (plain HTTP for 127.0.0.1, like dockerd's default insecure range),
// with the X-Registry-Auth credentials (Basic, or a Bearer token), picks a
// platform from an index (and, as dockerd, refuses an image whose config
// names another OS than the host's), verifies every digest, and records layers in a
// per-host layer store keyed by chain ID, shared between images: a second
// version downloads only its new layers and reports the others as
// "Already exists". Blob bytes are verified and then discarded; only
// metadata is kept, so hundreds of hosts cost no disk. Image IDs are config
// digests and RepoDigests name the manifest (or index) digest, as in
// dockerd. Extract time (WithExtractRate), disk capacity
// (WithDiskCapacity) and the host's link to registries (WithLink) are
// simulated; SetDown, SetHang and FailPullMidStream inject faults.
//
// The Rancher simulator drives hosts as an agent would, through
// EnsureImage, CreateContainer, StartContainer, StopContainer and
// RemoveContainer. A container, running or stopped, keeps its image from
// being deleted without force (409), like dockerd.
//
// Concurrency: every Host method is safe for concurrent use, and a host
// serves any number of concurrent requests; concurrent pulls of the same
// layer on one host download it once. Close ends in-flight requests and
// pulls and returns after they have stopped.
//
// What it never does: it never logs or returns registry credentials, never
// writes to disk, never runs a process, and never reaches a registry except
// the one a pull names (and a foreign layer's URLs when it lacks the blob). Sizes are compressed
// layer sizes (dockerd reports extracted sizes), failed downloads are not
// retried (dockerd retries five times with a growing delay), and the API
// version is fixed at APIVersion (1.41).
//
// The conformance suite in package dockertest runs the same assertions
// against a Host and against the machine's dockerd.
package dockersim
