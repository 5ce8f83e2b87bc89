// Package dockersocket reaches a host's Docker Engine API through Rancher 1.6, where
// dockerd is not on the network: the host action dockersocket answers a websocket URL
// and a token, and the Rancher agent on the host relays that websocket to
// /var/run/docker.sock.
//
// [Dialer.DialContext] opens one websocket per Docker API connection, asking for a
// fresh action (and token) each time, as rancher/cli's rancher-docker-api-proxy does,
// and returns a net.Conn: each Write is sent as TEXT frames of standard base64, each
// incoming TEXT frame is decoded and buffered for Read. The moby client runs over it
// unchanged:
//
//	d := rc.DockerDialer(host) // rc a *rancher.Client, host a *rancher.Host it listed
//	cli, err := client.New(client.WithHost("tcp://"+host.Name+".via-rancher:2375"),
//		client.WithDialContext(d.DialContext))
//
// Image bytes never cross the websocket: dockerd pulls from the registry itself; only
// API requests, JSON and the pull progress stream do.
//
// # Errors
//
// [ErrActionMissing] (the key's role lacks modifyInfra), [ErrHostNotActive] (host state
// or agent), [ErrTokenRefused], [ErrRelayClosed] (the websocket closed before or while
// dockerd answered; retry like a dropped TCP connection) and [ErrInsecureURL]. The
// token never appears in an error or a log record: URLs are printed without their
// query, and errors from the websocket library are redacted and do not unwrap to the
// original.
//
// # Concurrency
//
// A [Dialer] is safe for concurrent use. A connection follows net.Conn's rules: one
// Read and one Write may run at once. A deadline that passes during a Read or Write
// closes the connection (the websocket library closes on any context expiry), which
// is what an HTTP client expects of a timed-out connection anyway.
//
// # What it never does
//
// It never logs or returns the token, never falls back to ws:// when RequireTLS is
// set, and never reuses a token.
package dockersocket
