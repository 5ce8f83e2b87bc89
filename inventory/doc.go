// Package inventory reads hosts.yaml (the fleet: registries, Rancher,
// environments and their Docker hosts) and release files, strictly: unknown
// or duplicate keys and wrong types are errors naming file, line and key
// path, and Validate reports every problem at once.
//
// It never reads secrets from the file: credentials are env var names,
// resolved only when a command needs them.
package inventory
