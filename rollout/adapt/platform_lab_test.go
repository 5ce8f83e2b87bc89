package adapt_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// The gate makes prewarm's platform choice: on a Windows host it checks and
// pulls the entry of the host's build, and a build the index lacks is the
// gate's error, named, and rollout.ErrNoPlatform (the gate does not wait for it).
func TestGateWindowsBuild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		build   string
		wantErr string
	}{
		{build: "10.0.20348"},
		{build: "10.0.26100", wantErr: "host qa-01 is windows/amd64 10.0.26100; app:1.0 has linux/amd64, windows/amd64 10.0.17763.6054, windows/amd64 10.0.20348.2582 only"},
	} {
		t.Run(tc.build, func(t *testing.T) {
			t.Parallel()
			l := labtest.New(t, lab.Config{Envs: 2, WindowsEnvs: []string{"qa"}, WindowsBuild: tc.build, Images: []string{"app:1.0"},
				SeedRegions: true, ImageSize: 32 << 10, Layers: 2})
			inv, lock := l.Inventory(), labtest.Lock(l)
			li := lock.Images[0]
			img := rollout.Image{Ref: li.DeployRef(inv.Registries.Regions[inv.Env("qa").Region].Address), Digest: li.Digest}
			host := rollout.Host{Name: "qa-01"}

			p := adapt.NewHostPresence(inv).UseLock(lock)
			ok, err := p.Present(t.Context(), "qa", host, img)
			if tc.wantErr != "" {
				if !errors.Is(err, fleet.ErrNoPlatform) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Present: %v, want %q", err, tc.wantErr)
				}
				if !errors.Is(err, rollout.ErrNoPlatform) { // the gate closes at once on it
					t.Errorf("Present: %v, want rollout.ErrNoPlatform too", err)
				}
				if err := p.Pull(t.Context(), "qa", host, img); !errors.Is(err, fleet.ErrNoPlatform) {
					t.Errorf("Pull: %v, want ErrNoPlatform", err)
				}
				if n := l.DockerHost("qa-01").Stats().Pulls; n != 0 {
					t.Errorf("%d pulls, want none", n)
				}
				return
			}
			if err != nil || ok {
				t.Fatalf("Present before pull: %v, %v; want missing", ok, err)
			}
			if err := p.Pull(t.Context(), "qa", host, img); err != nil {
				t.Fatal(err)
			}
			if ok, err := p.Present(t.Context(), "qa", host, img); err != nil || !ok {
				t.Fatalf("Present after pull: %v, %v", ok, err)
			}
			m, err := fleet.Status(t.Context(), []fleet.Target{{Name: "qa-01", Env: "qa", Registry: inv.Registries.Regions[inv.Env("qa").Region].Address, Docker: inv.Env("qa").Hosts[0].Docker}}, lock)
			if err != nil {
				t.Fatal(err)
			}
			if c := m.Hosts[0].Cells[0]; c.State != fleet.StatePresent || c.Platform != "windows/amd64 10.0.20348.2582" {
				t.Errorf("status cell %+v, want present for windows/amd64 10.0.20348.2582", c)
			}
		})
	}
}
