package fleet

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/moby/moby/api/types/system"

	"github.com/drover-dev/drover/inventory"
)

func TestPlatformOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   system.Info
		want string
	}{
		{"linux", system.Info{OSType: "linux", Architecture: "x86_64", KernelVersion: "6.8.0"}, "linux/amd64"},
		{"arm64", system.Info{OSType: "linux", Architecture: "aarch64"}, "linux/arm64"},
		{"armv7", system.Info{OSType: "linux", Architecture: "armv7l"}, "linux/arm/v7"},
		{"windows OSVersion", system.Info{OSType: "windows", Architecture: "x86_64", OSVersion: "10.0.17763.6054"}, "windows/amd64 10.0.17763"},
		{"windows KernelVersion fallback", system.Info{OSType: "windows", Architecture: "x86_64", KernelVersion: "10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)"}, "windows/amd64 10.0.20348"},
		{"windows build unknown", system.Info{OSType: "windows", Architecture: "x86_64", KernelVersion: "lab"}, "windows/amd64"},
		{"nothing reported", system.Info{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PlatformOf(tt.in).String(); got != tt.want {
				t.Errorf("PlatformOf(%+v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// windowsIndex is an index of two Windows builds and linux/amd64.
var windowsIndex = []inventory.LockManifest{
	{OS: "linux", Architecture: "amd64", Digest: "sha256:l"},
	{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6054", Digest: "sha256:w1"},
	{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.2582", Digest: "sha256:w2"},
}

func TestChoose(t *testing.T) {
	t.Parallel()
	win := func(build string) Platform { return Platform{OS: "windows", Architecture: "amd64", OSVersion: build} }
	tests := []struct {
		name    string
		host    Platform
		entries []inventory.LockManifest
		want    string // digest; "" with ok: nothing to choose
		wantOK  bool
	}{
		{"linux", Platform{OS: "linux", Architecture: "amd64"}, windowsIndex, "sha256:l", true},
		{"windows 2019 (revision ignored)", win("10.0.17763"), windowsIndex, "sha256:w1", true},
		{"windows 2022", win("10.0.20348"), windowsIndex, "sha256:w2", true},
		{"windows 2025: no entry", win("10.0.26100"), windowsIndex, "", false},
		{"arm64: no entry", Platform{OS: "linux", Architecture: "arm64"}, windowsIndex, "", false},
		{"windows build unknown: first windows entry", Platform{OS: "windows", Architecture: "amd64"}, windowsIndex, "sha256:w1", true},
		{"entry without os.version fits any build", win("10.0.26100"), []inventory.LockManifest{{OS: "windows", Architecture: "amd64", Digest: "sha256:any"}}, "sha256:any", true},
		{"same build preferred over none", win("10.0.20348"), []inventory.LockManifest{{OS: "windows", Architecture: "amd64", Digest: "sha256:any"}, windowsIndex[2]}, "sha256:w2", true},
		{"variant", Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, []inventory.LockManifest{{OS: "linux", Architecture: "arm", Variant: "v6", Digest: "sha256:6"}, {OS: "linux", Architecture: "arm", Variant: "v7", Digest: "sha256:7"}}, "sha256:7", true},
		{"single-platform image", win("10.0.26100"), nil, "", true},
		{"host unknown", Platform{}, windowsIndex, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Choose(tt.host, tt.entries)
			if got.Digest != tt.want || ok != tt.wantOK {
				t.Errorf("Choose(%s) = %+v, %v; want %s, %v", tt.host, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func windowsLock() *inventory.Lock {
	l := fakeLock()
	l.Images[0].Tag = "1.4"
	l.Images[0].Manifests = windowsIndex
	l.Images = append(l.Images, inventory.LockImage{Name: "sidecar", Repository: "team/sidecar", Tag: "2", Digest: testDigest, Manifests: windowsIndex})
	return l
}

// A Windows host pulls each image by the lock's digest for windows/amd64 (its
// daemon takes its own build's entry), the chosen entry is reported, and
// /info is read once for both images.
func TestPullWindowsBuild(t *testing.T) {
	t.Parallel()
	f := newFleet()
	f.infos = map[string]system.Info{"h00": {OSType: "windows", Architecture: "x86_64", OSVersion: "10.0.20348"}}
	rep, err := Pull(t.Context(), fakeHosts(1, "r1:5000"), windowsLock(), WithDial(f.dial))
	if err != nil {
		t.Fatal(err)
	}
	hr := rep.Hosts[0]
	if hr.Platform != "windows/amd64 10.0.20348" {
		t.Errorf("host platform %q", hr.Platform)
	}
	for _, ir := range hr.Images {
		if ir.Platform != "windows/amd64 10.0.20348.2582" || ir.Action != ActionPulled {
			t.Errorf("image %s: %s, platform %q; want pulled, windows/amd64 10.0.20348.2582", ir.Name, ir.Action, ir.Platform)
		}
	}
	e := f.hosts["h00"]
	if e.infos != 1 {
		t.Errorf("/info read %d times, want once per host and run", e.infos)
	}
	for _, o := range e.pullOpts {
		if len(o.Platforms) != 1 || o.Platforms[0].OS != "windows" || o.Platforms[0].Architecture != "amd64" {
			t.Errorf("pull platforms %+v, want windows/amd64", o.Platforms)
		}
	}
}

// A host no entry fits fails at once, named, with no pull and no retry.
func TestPullNoPlatformNamed(t *testing.T) {
	t.Parallel()
	f := newFleet()
	hosts := fakeHosts(2, "r1:5000")
	hosts[0].Name = "dmz-eu-03"
	f.infos = map[string]system.Info{"dmz-eu-03": {OSType: "windows", Architecture: "x86_64", KernelVersion: "10.0 26100 (26100.1.amd64fre.ge_release.240331-1435)"}}
	lock := windowsLock()
	lock.Images[0].Manifests = windowsIndex[:2]
	rep, err := Pull(t.Context(), hosts, lock, WithDial(f.dial), WithBackoff(noBackoff))
	var pe *PlatformError
	if !errors.As(err, &pe) || !errors.Is(err, ErrNoPlatform) {
		t.Fatalf("err %v, want a *PlatformError", err)
	}
	const want = "host dmz-eu-03 is windows/amd64 10.0.26100; app:1.4 has linux/amd64, windows/amd64 10.0.17763.6054 only"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err %q\nwant it to say %q", err, want)
	}
	if ir := rep.Hosts[0].Images[0]; ir.Attempts != 0 || ir.Action != ActionFailed {
		t.Errorf("image report %+v: want failed without a pull", ir)
	}
	if n := f.hosts["dmz-eu-03"].pulls; n != 0 {
		t.Errorf("%d pulls on the host no entry fits, want none", n)
	}
	if !rep.Hosts[1].Ready {
		t.Errorf("the linux host is not ready: %s", rep.Hosts[1].Error)
	}
}

// A platform miss the daemon reports (a lock without entries) is not
// retried like a network error.
func TestPullPlatformMissNotRetried(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.noPlatform = "windows/amd64 10.0.26100"
		start := time.Now()
		rep, err := Pull(t.Context(), fakeHosts(1, "r1:5000"), fakeLock(), WithDial(f.dial), WithRetries(3), WithBackoff(func(int) time.Duration { return time.Minute }))
		if !errors.Is(err, ErrNoPlatform) {
			t.Fatalf("err %v, want ErrNoPlatform", err)
		}
		if ir := rep.Hosts[0].Images[0]; ir.Attempts != 1 {
			t.Errorf("%d attempts, want 1", ir.Attempts)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("waited %v for retries", d)
		}
	})
}

// Status shows each host's platform and a no-platform cell, and its table
// has the PLATFORM column.
func TestStatusPlatform(t *testing.T) {
	t.Parallel()
	f := newFleet()
	f.infos = map[string]system.Info{"h00": {OSType: "windows", Architecture: "x86_64", OSVersion: "10.0.26100"}}
	m, err := Status(t.Context(), fakeHosts(2, "r1:5000"), windowsLock(), WithDial(f.dial))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Hosts[0].Platform; got != "windows/amd64 10.0.26100" {
		t.Errorf("host platform %q", got)
	}
	if c := m.Hosts[0].Cells[0]; c.State != StateNoPlatform || !strings.Contains(c.Error, "has linux/amd64, windows/amd64 10.0.17763.6054, windows/amd64 10.0.20348.2582 only") {
		t.Errorf("cell %+v, want no-platform listing the index", c)
	}
	if c := m.Hosts[1].Cells[0]; c.State != StateMissing || c.Platform != "linux/amd64" {
		t.Errorf("linux cell %+v, want missing, checked for linux/amd64", c)
	}
	var b bytes.Buffer
	if err := m.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "PLATFORM") || !strings.Contains(b.String(), "windows/amd64 10.0.26100") {
		t.Errorf("table lacks the platform:\n%s", b.String())
	}
}

// An image held by digest but of another Windows build than the host's
// entry is wrong-platform, and a pull replaces it.
func TestWrongWindowsBuildRepulled(t *testing.T) {
	t.Parallel()
	f := newFleet()
	hosts := fakeHosts(1, "r1:5000")
	f.infos = map[string]system.Info{"h00": {OSType: "windows", Architecture: "x86_64", OSVersion: "10.0.20348"}}
	lock := windowsLock()
	lock.Images = lock.Images[:1]
	w := LockWant(hosts[0].Registry, lock.Images[0])
	eng, _ := f.dial(t.Context(), hosts[0])
	held := inspectFor(w.Pull)
	held.Os, held.OsVersion = "windows", "10.0.17763.6054"
	eng.(*fakeEngine).images[w.Ref] = held

	m, err := Status(t.Context(), hosts, lock, WithDial(f.dial))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Hosts[0].Cells[0]; c.State != StateWrongPlatform {
		t.Fatalf("cell %+v, want wrong-platform", c)
	}
	rep, err := Pull(t.Context(), hosts, lock, WithDial(f.dial))
	if err != nil {
		t.Fatal(err)
	}
	if ir := rep.Hosts[0].Images[0]; ir.Action != ActionPulled {
		t.Errorf("image %+v, want pulled again", ir)
	}
}

// Two hosts of one name in two environments (each Rancher project has its
// own dmz-01) are two platforms: the cache is per environment and host.
func TestPlatformCachePerEnv(t *testing.T) {
	t.Parallel()
	f := newFleet()
	f.infos = map[string]system.Info{"h00": {OSType: "windows", Architecture: "x86_64", OSVersion: "10.0.20348"}}
	hosts := []Target{
		{Name: "h00", Env: "a", Region: "r1:5000", Registry: "r1:5000", Docker: "rancher"},
		{Name: "h00", Env: "b", Region: "r1:5000", Registry: "r1:5000", Docker: "rancher"},
	}
	dial := func(ctx context.Context, h Target) (Engine, error) {
		if h.Env == "b" {
			h.Name = "h01" // b's h00 is another machine: the fake's default linux host
		}
		return f.dial(ctx, h)
	}
	m, err := Status(t.Context(), hosts, windowsLock(), WithDial(dial), WithConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := m.Hosts[0].Platform, m.Hosts[1].Platform; a != "windows/amd64 10.0.20348" || b != "linux/amd64" {
		t.Errorf("platforms a/h00 %q, b/h00 %q, want windows/amd64 10.0.20348 and linux/amd64", a, b)
	}
}
