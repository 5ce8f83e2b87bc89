package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// windowsLab: dev is Linux, qa Windows of build; app:1.0 is an index of
// linux/amd64 and two Windows builds, already in the regions.
func windowsLab(t *testing.T, build string) (*lab.Lab, []Target) {
	t.Helper()
	l := labtest.New(t, lab.Config{Envs: 2, WindowsEnvs: []string{"qa"}, WindowsBuild: build, Images: []string{"app:1.0"},
		SeedRegions: true, ImageSize: 64 << 10, Layers: 2})
	hosts, err := Targets(l.Inventory(), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	return l, hosts
}

// Each host gets the entry of its platform: the Windows host its build's
// (the image it holds says so), the Linux host linux/amd64; status agrees.
func TestLabWindowsBuild(t *testing.T) {
	t.Parallel()
	for _, build := range []string{"10.0.17763", "10.0.20348"} {
		t.Run(build, func(t *testing.T) {
			t.Parallel()
			l, hosts := windowsLab(t, build)
			lock := labLock(l)
			rep, err := Pull(t.Context(), hosts, lock, WithBackoff(noBackoff))
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			want := map[string]string{"dev-01": "linux/amd64", "qa-01": "windows/amd64 " + build}
			for _, h := range rep.Hosts {
				if h.Platform != want[h.Name] {
					t.Errorf("host %s platform %q, want %q", h.Name, h.Platform, want[h.Name])
				}
				if ip := h.Images[0].Platform; !strings.HasPrefix(ip, want[h.Name]) {
					t.Errorf("host %s pulled the %q entry, want %s", h.Name, ip, want[h.Name])
				}
			}
			eng, err := Dial(t.Context(), hosts[1])
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			res, err := eng.ImageInspect(t.Context(), LockWant(hosts[1].Registry, lock.Images[0]).Ref)
			if err != nil {
				t.Fatal(err)
			}
			if res.Os != "windows" || Build(res.OsVersion) != build {
				t.Errorf("qa-01 holds a %s %s image, want windows %s", res.Os, res.OsVersion, build)
			}
			m, err := Status(t.Context(), hosts, lock)
			if err != nil || !m.AllPresent() {
				t.Errorf("status after pull: %v, %+v", err, m)
			}
		})
	}
}

// A Windows host whose build no entry has fails by name, pulls nothing,
// and is not retried; the Linux host is done anyway.
func TestLabWindowsBuildMissing(t *testing.T) {
	t.Parallel()
	l, hosts := windowsLab(t, "10.0.26100")
	rep, err := Pull(t.Context(), hosts, labLock(l), WithBackoff(noBackoff))
	var pe *PlatformError
	if !errors.As(err, &pe) {
		t.Fatalf("Pull: %v, want a *PlatformError", err)
	}
	const want = "host qa-01 is windows/amd64 10.0.26100; app:1.0 has linux/amd64, windows/amd64 10.0.17763.6054, windows/amd64 10.0.20348.2582 only"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\ndoes not say %q", err, want)
	}
	if got := rep.Failed(); len(got) != 1 || got[0] != "qa-01" {
		t.Errorf("Failed() = %v, want [qa-01]", got)
	}
	if n := l.DockerHost("qa-01").Stats().Pulls; n != 0 {
		t.Errorf("qa-01 pulled %d times, want none", n)
	}
	m, err := Status(t.Context(), hosts, labLock(l))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Hosts[1].Cells[0]; c.State != StateNoPlatform || m.Hosts[1].Platform != "windows/amd64 10.0.26100" {
		t.Errorf("status of qa-01: %s %+v, want no-platform", m.Hosts[1].Platform, c)
	}
}
