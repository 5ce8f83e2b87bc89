package fleet

import (
	"errors"
	"strings"
)

// ErrNpipeNotWindows is the dial error for an npipe:// endpoint on a
// machine that is not Windows: a named pipe is local to a Windows host, so
// prewarm must run on that host (the recycle hook, `prewarm seed --docker
// npipe:////./pipe/docker_engine --env E`). It is not retried.
var ErrNpipeNotWindows = errors.New("npipe:// endpoints are dialled on Windows only")

// isNpipe reports whether endpoint is a Windows named pipe.
func isNpipe(endpoint string) bool { return strings.HasPrefix(endpoint, "npipe://") }

// checkNpipe refuses an npipe:// endpoint on any OS but Windows, where the
// moby client would fail with a bare "address family not supported".
func checkNpipe(endpoint, goos string) error {
	if isNpipe(endpoint) && goos != "windows" {
		return ErrNpipeNotWindows
	}
	return nil
}
