// Package lease keeps one operator per environment: a lease taken on the Rancher
// server itself, so runs on different machines see each other.
//
// Rancher 1.6 has no compare-and-swap, so the lease is built from genericObjects
// (kind "droverLease", key = the environment name, resourceData = who holds it, where,
// which command, since when, and until when). A run creates its own object, then lists
// the environment's: the live object with the lowest id (ids only grow) holds the lease;
// every other run deletes its object and gets a [*HeldError] naming the holder. After
// winning, Acquire looks once more ([WithSettle]) in case a create with a lower id
// committed late. An object whose expiry has passed belongs to a run that stopped
// renewing (it crashed, or lost the server for a whole TTL): it is deleted with a
// warning and the lease taken over. The holder renews every third of the TTL
// ([WithTTL], 2 minutes by default) and deletes its object on [Lease.Release], which
// also runs after the caller's context is cancelled. [Manager.Inspect] shows the holder;
// [Manager.ForceUnlock] is for a human who knows the holder is gone.
//
// Expiry is judged on each run's own clock: clocks skewed by more than a fraction of
// the TTL make a live lease look expired to another machine.
//
// # Concurrency
//
// A [Manager] and a [Lease] are safe for concurrent use. Each held lease runs one
// goroutine (the renewals) until Release, or until the lease is lost ([Lease.Lost]).
//
// # What it never does
//
// It never prints (warnings go to the [WithLogger] logger), never retries an Acquire
// that found the lease held, never deletes a live lease except through ForceUnlock, and
// never puts key secrets in errors or logs.
package lease
