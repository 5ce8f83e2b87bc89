// Package netem emulates a wide-area network and a misbehaving server inside
// one process, without root: a Link throttles bandwidth and adds latency to
// readers, HTTP handlers and HTTP transports, and Faults is an HTTP middleware
// that fails, cuts, hangs or refuses requests on demand while it records a
// request log and byte counters.
//
// A Link is a plain value. Link.Reader gives each reader its own budget;
// Handler and Transport create one budget per call that all requests through
// the returned handler or transport share, as a real link is shared by the
// transfers crossing it (uploads and downloads have separate budgets: the
// link is full duplex).
//
// Faults is safe for concurrent use: knobs can be turned while requests are
// in flight. A Faults "down" state refuses TCP connections when the server's
// listener came from Faults.Listen (the listener is closed and reopened on
// the same port, so clients see ECONNREFUSED like a dead host); requests
// that arrive on connections accepted before going down are cut by
// hijacking and closing the connection without a response.
//
// netem never sleeps for real in tests that use testing/synctest: every wait
// is a timer or a context, so fake time applies. It never logs.
package netem
