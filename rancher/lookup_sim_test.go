package rancher

import (
	"testing"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// Project names match case-insensitively, as on a real server
// (ProjectResourceManager.listInternal); the simulator does the same, so the
// client must not drop what the server found. An exact match wins.
func TestProjectNameAnyCase(t *testing.T) {
	t.Parallel()
	l := startSim(t, nil)
	l.s.AddProject("Prod", ranchersim.Keys{Access: "AKPROD", Secret: "SKPROD-secret"})
	for _, tc := range []struct{ in, want string }{
		{"dev", "dev"}, {"DEV", "dev"}, {"Dev", "dev"},
	} {
		p, err := l.c.Project(t.Context(), tc.in)
		if err != nil || p.Name != tc.want {
			t.Errorf("Project(%q) = %+v, %v; want %s", tc.in, p, err, tc.want)
		}
	}
	if _, err := l.c.Project(t.Context(), "prod"); !IsNotFound(err) {
		t.Errorf("Project(prod) with an environment key of dev: %v, want not found", err)
	}
	if _, err := l.c.Project(t.Context(), "nope"); !IsNotFound(err) {
		t.Errorf("Project(nope): %v, want not found", err)
	}
}
