package fleet

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/inventory"
)

// labLock is the lock for what the lab seeded.
func labLock(l *lab.Lab) *inventory.Lock { return labtest.Lock(l) }

const labUA = "drover-lab-host/"

// TestLabRegions: 3 regions x 3 environments x 10 hosts. Every host pulls
// from its own region (the registries' request logs say who asked); a
// second run inspects once per host and image and pulls nothing.
func TestLabRegions(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{Regions: 3, Envs: 9, HostsPerEnv: 10, SeedRegions: true, ImageSize: 256 << 10, Layers: 2})
	inv := l.Inventory()
	hosts, err := Targets(inv, Selection{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 90 {
		t.Fatalf("%d hosts, want 90", len(hosts))
	}
	lock := labLock(l)
	for _, r := range l.Registries() {
		r.Faults().ResetStats()
	}

	rep, err := Pull(t.Context(), hosts, lock, WithBackoff(noBackoff), WithRegistryLimit(6))
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if f := rep.Failed(); len(f) != 0 {
		t.Fatalf("not ready: %v", f)
	}
	if err := l.Idle(t.Context()); err != nil {
		t.Fatal(err)
	}
	regionOf := map[string]string{}
	for _, h := range l.Hosts() {
		regionOf[h.Name] = h.Region
	}
	for _, e := range l.Source.Log() {
		if strings.HasPrefix(e.UserAgent, labUA) {
			t.Errorf("host %s asked the source registry for %s", strings.TrimPrefix(e.UserAgent, labUA), e.Path)
		}
	}
	for _, region := range l.RegionNames() {
		asked := map[string]bool{}
		for _, e := range l.Region(region).Log() {
			host, ok := strings.CutPrefix(e.UserAgent, labUA)
			if !ok {
				continue
			}
			if regionOf[host] != region {
				t.Errorf("host %s of region %s pulled from %s: %s %s", host, regionOf[host], region, e.Method, e.Path)
			}
			if e.Class == netem.ClassManifests && e.Method == "GET" {
				asked[host] = true
			}
		}
		for h, r := range regionOf {
			if r == region && !asked[h] {
				t.Errorf("host %s never fetched a manifest from its region %s", h, region)
			}
		}
	}

	before := map[string]int{}
	pulls := 0
	for _, h := range l.Hosts() {
		s := l.DockerHost(h.Name).Stats()
		before[h.Name] = s.Inspects
		pulls += s.Pulls
	}
	rep, err = Pull(t.Context(), hosts, lock)
	if err != nil {
		t.Fatalf("second Pull: %v", err)
	}
	after := 0
	for _, h := range l.Hosts() {
		s := l.DockerHost(h.Name).Stats()
		if got := s.Inspects - before[h.Name]; got != len(lock.Images) {
			t.Errorf("host %s: %d inspects on the second run, want %d", h.Name, got, len(lock.Images))
		}
		after += s.Pulls
	}
	if after != pulls {
		t.Errorf("second run started %d pulls, want 0", after-pulls)
	}
	for _, h := range rep.Hosts {
		if slices.ContainsFunc(h.Images, func(im ImageReport) bool { return im.Action != ActionPresent }) {
			t.Errorf("host %s: %+v, want every image present", h.Name, h.Images)
		}
	}
}

// TestLabFaults: a host down, a hung host and a host whose daemon fails
// mid-stream (HTTP 200, then errorDetail); the others are done and the
// report names each failure.
func TestLabFaults(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{HostsPerEnv: 5, SeedRegions: true, ImageSize: 128 << 10, Layers: 2})
	hosts, err := Targets(l.Inventory(), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	l.DockerHost(names[1]).SetDown(true)
	l.DockerHost(names[2]).SetHang(true)
	l.DockerHost(names[3]).FailPullMidStream(true)

	// The stall timeout leaves room for a loaded CI machine: a healthy host
	// that took longer than it to answer was reported hung (a flake).
	const stall = 3 * time.Second
	rep, err := Pull(t.Context(), hosts, labLock(l), WithTimeout(stall), WithRetries(1), WithBackoff(noBackoff))
	if err == nil {
		t.Fatal("Pull: no error with three broken hosts")
	}
	if got, want := rep.Failed(), slices.Sorted(slices.Values(names[1:4])); !slices.Equal(got, want) {
		t.Errorf("Failed() = %v, want %v", got, want)
	}
	for _, want := range []struct {
		host string
		err  error
	}{{names[1], ErrUnreachable}, {names[2], ErrUnreachable}, {names[3], ErrPullStream}} {
		var found bool
		for _, e := range flatten(err) {
			var he *HostError
			if errors.As(e, &he) && he.Host == want.host {
				found = true
				if !errors.Is(he, want.err) {
					t.Errorf("host %s: %v, want %v", want.host, he, want.err)
				}
			}
		}
		if !found {
			t.Errorf("error does not name %s: %v", want.host, err)
		}
	}
	for _, i := range []int{0, 4} {
		if !rep.Hosts[i].Ready {
			t.Errorf("healthy host %s not ready: %s", names[i], rep.Hosts[i].Error)
		}
	}
	if s := rep.Hosts[2].Seconds; s < stall.Seconds() || s > 30 {
		t.Errorf("hung host gave up after %.1fs, want about the %v timeout", s, stall)
	}

	m, err := Status(t.Context(), hosts, labLock(l), WithTimeout(stall))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []State{StatePresent, StateUnreachable, StateUnreachable, StateMissing, StatePresent} {
		if got := m.Hosts[i].Cells[0].State; got != want {
			t.Errorf("status of %s: %s (%s), want %s", names[i], got, m.Hosts[i].Cells[0].Error, want)
		}
	}
}

// flatten unpacks errors.Join trees.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// TestLabInterrupted: Ctrl-C in the middle of pulling (prewarm's tests
// interrupt its mirror step). Hosts cut short (or never started) are reported
// interrupted, counted missing rather than failed, and none is called
// unreachable; hosts not started cost no call.
func TestLabInterrupted(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{HostsPerEnv: 4, SeedRegions: true, ImageSize: 8 << 20, Layers: 2, HostLink: netem.Link{BytesPerSec: 1 << 20}})
	hosts, err := Targets(l.Inventory(), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, rep *Report, err error) {
		t.Helper()
		if !errors.Is(err, ErrInterrupted) || errors.Is(err, ErrUnreachable) {
			t.Errorf("error %v: want interrupted, not unreachable", err)
		}
		for _, h := range rep.Hosts {
			if h.Ready || !h.Interrupted || strings.Contains(h.Error, "unreachable") || !strings.Contains(h.Error, "interrupted") {
				t.Errorf("host %s: ready %v, interrupted %v, error %q: want interrupted", h.Name, h.Ready, h.Interrupted, h.Error)
			}
		}
		for _, e := range rep.ByEnv() {
			if e.Missing != 4 || e.Failed != 0 {
				t.Errorf("%s after an interrupt: %d missing, %d failed; want 4 missing and 0 failed", e.Env, e.Missing, e.Failed)
			}
		}
	}

	t.Run("mid-pull, some hosts queued", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		started := make(chan struct{}, len(hosts))
		progress := func(ev Progress) {
			if ev.Phase == "pulling" && ev.Current > 0 {
				select {
				case started <- struct{}{}:
				default:
				}
			}
		}
		go func() { <-started; cancel() }()
		rep, err := Pull(ctx, hosts, labLock(l), WithConcurrency(2), WithProgress(progress), WithBackoff(noBackoff))
		check(t, rep, err)
	})

}
