package fleet

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestNpipe: a named pipe is dialled only on Windows; elsewhere the error
// says so (was: the moby client's bare "address family not supported").
func TestNpipe(t *testing.T) {
	t.Parallel()
	const pipe = "npipe:////./pipe/docker_engine"
	for _, tc := range []struct {
		endpoint, goos string
		want           error
	}{
		{pipe, "linux", ErrNpipeNotWindows},
		{pipe, "darwin", ErrNpipeNotWindows},
		{pipe, "windows", nil},
		{"unix:///var/run/docker.sock", "linux", nil},
		{"tcp://10.0.0.1:2376", "windows", nil},
	} {
		if err := checkNpipe(tc.endpoint, tc.goos); !errors.Is(err, tc.want) {
			t.Errorf("checkNpipe(%s, %s) = %v, want %v", tc.endpoint, tc.goos, err, tc.want)
		}
	}
	if runtime.GOOS == "windows" {
		return
	}
	rep, err := Pull(t.Context(), []Target{{Name: "win-01", Env: "dmz", Registry: "r1:5000", Docker: pipe}}, fakeLock(), WithRetries(3), WithBackoff(noBackoff))
	if !errors.Is(err, ErrNpipeNotWindows) || !strings.Contains(err.Error(), "win-01") {
		t.Fatalf("Pull over npipe on %s: %v, want ErrNpipeNotWindows naming the host", runtime.GOOS, err)
	}
	if hr := rep.Hosts[0]; hr.Ready || !strings.Contains(hr.Error, "npipe:// endpoints are dialled on Windows only") {
		t.Errorf("host report %+v: want not ready, saying why", hr)
	}
}
