package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestLabNoSpace: a host whose disk fills during a pull (the lab host's
// "no space left on device", as dockerd writes it) fails once, not
// retried, with an error that names the host and the bytes the image needs
// and offers the prune to run (was: retried 3 times like a network error).
func TestLabNoSpace(t *testing.T) {
	t.Parallel()
	const size = 512 << 10
	l := labtest.New(t, lab.Config{Regions: 1, Envs: 1, HostsPerEnv: 1, SeedRegions: true, ImageSize: size, Layers: 2, DiskCapacity: size / 4})
	hosts, err := Targets(l.Inventory(), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	lock := labLock(l)
	lock.Images = lock.Images[:1]
	rep, err := Pull(t.Context(), hosts, lock, WithBackoff(noBackoff), WithRetries(3),
		WithPruneCommand(func(env, repo string) string { return "prewarm prune -c hosts.yaml --env " + env }))
	var ns *NoSpaceError
	if !errors.Is(err, ErrNoSpace) || !errors.As(err, &ns) {
		t.Fatalf("Pull onto a full disk: %v, want a NoSpaceError", err)
	}
	if testing.Verbose() {
		t.Log(err)
	}
	h := hosts[0]
	if ns.Host != h.Name || ns.Env != h.Env || ns.Need < size/4 || ns.Need > size+size/8 {
		t.Errorf("NoSpaceError %+v: want host %s (%s) and a need near %d bytes", ns, h.Name, h.Env, size)
	}
	if ir := rep.Hosts[0].Images[0]; ir.Attempts != 1 {
		t.Errorf("%d attempts: a full disk is not retried", ir.Attempts)
	}
	msg := err.Error()
	for _, want := range []string{h.Name, "no space left on device", "needs at least", "`prewarm prune -c hosts.yaml --env " + h.Env + "`"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// TestNoSpaceNothingToPrune: a full host where prune would free nothing
// gets no prune to run but the bytes its disk lacks and the dry run that
// shows why; the error still is ErrNoSpace.
func TestNoSpaceNothingToPrune(t *testing.T) {
	t.Parallel()
	e := &NoSpaceError{Host: "h1", Env: "dmz", Image: "app", Need: 1000, Free: 400, Prune: "prewarm prune --env dmz",
		NothingToPrune: true, PruneDryRun: "prewarm prune --env dmz --dry-run --hosts h1", Err: &noRoomError{need: 1000}}
	msg := e.Error()
	for _, want := range []string{"needs at least 1000 bytes", "it has 400 bytes free, so grow its disk by at least 600 bytes",
		"Nothing can be pruned safely there", "`prewarm prune --env dmz --dry-run --hosts h1`", "Grow the host's disk"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Free space with") || !errors.Is(e, ErrNoSpace) {
		t.Errorf("error offers the prune or is not ErrNoSpace: %s", msg)
	}
}
