// Package inventory reads hosts.yaml (the fleet: registries, Rancher,
// environments and their Docker hosts), release files and their lock,
// strictly: unknown or duplicate keys, wrong types and a missing version are
// errors naming file, line and key path, and Validate reports every problem
// at once, as an errors.Join of *FieldError in file order:
//
//	hosts.yaml:14: environments[dmz-eu].hosts[2].docker: "http://10.0.0.3:2375": scheme "http": want unix://, tcp:// or npipe://
//
// Load merges the defaults block (and the built-in defaults, Default*) down,
// so consumers read effective values from each Environment and Host and
// never look at Defaults themselves. Helpers resolve what commands need:
// Env, EnvsByWave, RegistryFor, RancherURL and (*Environment).RancherKeyPair
// (Rancher as every command reaches it, which Validate's
// RequireCredentials and RequireRancher check), (Registry).Auth,
// (*Discover).Endpoint, (*TLS).ClientConfig, and, for releases,
// (LockImage).PullRef and DeployRef.
//
// Concurrency: loading and validating share nothing between calls. A
// loaded *Inventory, *Release or *Lock is safe for concurrent reads; nothing
// in this package mutates one after Load returns (ApplyDefaults aside,
// which is for inventories built in Go).
//
// What it never does: read secrets from a file (credentials are env var
// names, resolved through a getenv function only when a command asks),
// print or log a credential value (RegistryAuth redacts itself; Describe
// lists variables as set/unset), touch the network, or read files other than
// the one it is given unless asked (CheckFiles).
package inventory
