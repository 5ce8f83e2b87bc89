package registry

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/inventory"
)

// TestMirrorRetries: transient failures anywhere are retried and the run
// completes with every region holding the image; Retry-After is honoured.
func TestMirrorRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		arm   func(l *lab)
		check func(t *testing.T, l *lab, want int64)
	}{
		{
			name: "503 on a region's manifest HEAD",
			arm:  func(l *lab) { l.regions["r1"].Faults().FailNthOf(netem.ClassManifests, http.MethodHead, 1, 503) },
		},
		{
			name: "429 with Retry-After on an upload POST",
			arm: func(l *lab) {
				l.regions["r2"].Faults().SetRetryAfter(3 * time.Second)
				l.regions["r2"].Faults().FailNthOf(netem.ClassUploads, http.MethodPost, 2, 429)
			},
			check: func(t *testing.T, l *lab, _ int64) {
				if !slices.ContainsFunc(l.sleeps.all(), func(d time.Duration) bool { return d >= 3*time.Second }) {
					t.Errorf("waits %v: want one honouring Retry-After: 3", l.sleeps.all())
				}
			},
		},
		{
			name: "500 on a source blob GET",
			arm:  func(l *lab) { l.src.Faults().FailNthOf(netem.ClassBlobs, http.MethodGet, 2, 500) },
		},
		{
			name: "source connection reset mid-blob resumes with a Range",
			arm:  func(l *lab) { l.src.Faults().ResetMidBody(1) },
			check: func(t *testing.T, l *lab, want int64) {
				// The cut blob is resumed where it stopped, not re-read.
				if got := served(l.src); got > want+256<<10 {
					t.Errorf("source served %d bytes, want about one copy (%d)", got, want)
				}
			},
		},
		{
			name: "a region's upload PUT fails: it retries alone",
			arm:  func(l *lab) { l.regions["r3"].Faults().FailNthOf(netem.ClassUploads, http.MethodPut, 1, 500) },
			check: func(t *testing.T, l *lab, _ int64) {
				gets := l.src.Stats().Get(http.MethodGet, netem.ClassBlobs).Requests
				if gets != 5+1 {
					t.Errorf("source blob GETs %d, want 6 (5 blobs, one re-read for r3 alone)", gets)
				}
				for _, name := range []string{"r1", "r2"} {
					if puts := l.regions[name].Stats().Get(http.MethodPut, netem.ClassUploads).Requests; puts != 5 {
						t.Errorf("region %s: %d upload PUTs, want 5 (unaffected)", name, puts)
					}
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, 3)
			l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 1 << 20, Layers: 4})
			lock := l.lock(t, []string{"app:1.0"})
			want := sum(blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest))
			l.resetStats()
			tc.arm(l)
			rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(WithJobs(2))...)
			if err != nil {
				t.Fatalf("mirror: %v", err)
			}
			for _, res := range rep.Results {
				if res.Status != StatusMirrored {
					t.Errorf("result %+v: want mirrored", res)
				}
			}
			for name, r := range l.regions {
				if code, _ := getManifest(t, r.Addr(), "app", lock.Images[0].Digest); code != http.StatusOK {
					t.Errorf("region %s: manifest status %d", name, code)
				}
			}
			if len(l.sleeps.all()) == 0 {
				t.Error("no retry happened: the fault did not fire")
			}
			if tc.check != nil {
				tc.check(t, l, want)
			}
		})
	}
}

// TestMirrorRegionDown: the other regions finish; the report and the error
// name the region that is down.
func TestMirrorRegionDown(t *testing.T) {
	t.Parallel()
	l := newLab(t, 3)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 256 << 10, Layers: 2})
	lock := l.lock(t, []string{"app:1.0"})
	l.regions["r2"].Faults().Down(true)
	rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err == nil || !strings.Contains(err.Error(), "r2") {
		t.Fatalf("mirror with r2 down: error %v, want one naming r2", err)
	}
	for _, res := range rep.Results {
		wantFailed := res.Region == "r2"
		if (res.Status == StatusFailed) != wantFailed || (wantFailed && res.Error == "") {
			t.Errorf("result %+v: want failed=%v", res, wantFailed)
		}
	}
	if f := rep.Failed(); len(f) != 1 || f[0].Region != "r2" {
		t.Errorf("failed %+v: want r2 only", f)
	}
	// Back up: a rerun completes r2 alone.
	l.regions["r2"].Faults().Down(false)
	l.resetStats()
	rep, err = Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	for _, res := range rep.Results {
		if want := map[bool]Status{true: StatusMirrored, false: StatusPresent}[res.Region == "r2"]; res.Status != want {
			t.Errorf("rerun result %+v: want %s", res, want)
		}
	}
}

// TestMirrorAuth: wrong credentials fail clearly and are not retried; the
// right ones (from env vars named in the inventory) work.
func TestMirrorAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		wantErr  error
	}{
		{name: "right password", password: "s3cret"},
		{name: "wrong password", password: "nope", wantErr: ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, 1, registries.WithBasicAuth("drover", "s3cret"))
			l.seed(t, registries.SeedSpec{Images: []string{"app:1.0", "app:1.1"}, Size: 128 << 10, Layers: 2})
			lock := l.lock(t, []string{"app:1.0", "app:1.1"})
			regions := l.inv()
			r1 := regions["r1"]
			r1.Credentials = &inventory.RegistryCredentials{UsernameEnv: "R1_USER", PasswordEnv: "R1_PASS"}
			regions["r1"] = r1
			env := map[string]string{"R1_USER": "drover", "R1_PASS": tc.password}
			rep, err := Mirror(t.Context(), lock, l.source(), regions, l.opts(WithGetenv(func(k string) string { return env[k] }))...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("mirror: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil {
				return
			}
			if strings.Contains(err.Error(), tc.password) {
				t.Errorf("error %q shows the password", err)
			}
			if !strings.Contains(err.Error(), "401") || len(rep.Failed()) != 2 {
				t.Errorf("error %q, %d failed: want a 401 naming the registry, both images failed", err, len(rep.Failed()))
			}
			// No retry storm: the ping, then one refused request; the second
			// image is not even tried against a registry that answered 401.
			if n := l.regions["r1"].Stats().Total.Requests; n > 3 {
				t.Errorf("region saw %d requests, want at most 3", n)
			}
			if len(l.sleeps.all()) != 0 {
				t.Errorf("waited %v: auth failures must not be retried", l.sleeps.all())
			}
		})
	}
}

// TestMirrorRegionHangs: a region that takes requests and never answers is
// dropped after the stall timeout; the other regions still get the image.
func TestMirrorRegionHangs(t *testing.T) {
	t.Parallel()
	l := newLab(t, 3)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 256 << 10, Layers: 2})
	lock := l.lock(t, []string{"app:1.0"})
	l.regions["r3"].Faults().Hang(true)
	t.Cleanup(func() { l.regions["r3"].Faults().Hang(false) })
	rep, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(WithStallTimeout(time.Second), WithRetry(2, time.Millisecond, time.Millisecond))...)
	if err == nil || !strings.Contains(err.Error(), "r3") {
		t.Fatalf("mirror with r3 hung: error %v, want one naming r3", err)
	}
	for _, res := range rep.Results {
		switch {
		case res.Region == "r3" && (res.Status != StatusFailed || !strings.Contains(res.Error, "no answer within 1s")):
			t.Errorf("r3: %+v, want failed with the stall named", res)
		case res.Region != "r3" && res.Status != StatusMirrored:
			t.Errorf("%s: %+v, want mirrored", res.Region, res)
		}
	}
}

// TestMirrorRegionRefuses: a region that refuses connections is named as
// refusing, not as one that gave no answer for the stall timeout.
func TestMirrorRegionRefuses(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 64 << 10, Layers: 1})
	lock := l.lock(t, []string{"app:1.0"})
	down := startRegistry(t)
	addr := down.Addr()
	if err := down.Close(); err != nil {
		t.Fatal(err)
	}
	regions := map[string]inventory.Registry{"gone": inventoryRegistry(addr)}
	_, err := Mirror(t.Context(), lock, l.source(), regions, l.opts(WithStallTimeout(time.Minute))...)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("mirror to a closed port: %v, want connection refused and no stall named", err)
	}
}

// TestMirrorHungRegionAlone: a hung region is given one stall timeout in
// all (not one per retry), fails alone as unreachable, and does not hold
// back a region that already holds the release: that one is reported done
// first.
func TestMirrorHungRegionAlone(t *testing.T) {
	t.Parallel()
	l := newLab(t, 3)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 64 << 10, Layers: 1})
	lock := l.lock(t, []string{"app:1.0"})
	if _, err := Mirror(t.Context(), lock, l.source(), map[string]inventory.Registry{"r1": l.inv()["r1"]}, l.opts()...); err != nil {
		t.Fatal(err)
	}
	l.regions["r3"].Faults().ResetStats()
	l.regions["r3"].Faults().Hang(true)
	t.Cleanup(func() { l.regions["r3"].Faults().Hang(false) })
	var mu sync.Mutex
	var order []string
	errs := map[string]error{}
	done := func(region string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := errs[region]; dup {
			t.Errorf("region %s reported twice", region)
		}
		order = append(order, region)
		errs[region] = err
	}
	stall := 300 * time.Millisecond
	_, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(WithStallTimeout(stall), WithRegionDone(done))...)
	if !errors.Is(err, ErrRegionUnreachable) {
		t.Fatalf("mirror with r3 hung: %v, want ErrRegionUnreachable", err)
	}
	if len(order) != 3 || order[0] != "r1" {
		t.Errorf("regions reported in order %v, want all three, r1 (holds the image) first", order)
	}
	if errs["r1"] != nil || errs["r2"] != nil {
		t.Errorf("r1: %v, r2: %v, want both done", errs["r1"], errs["r2"])
	}
	if e := errs["r3"]; !errors.Is(e, ErrRegionUnreachable) || !strings.Contains(e.Error(), "region r3 unreachable: no answer within 300ms") {
		t.Errorf("r3: %v, want region r3 unreachable naming the stall", e)
	}
	if n := l.regions["r3"].Stats().Total.Requests; n != 1 {
		t.Errorf("hung region got %d requests, want 1 (one stall timeout in all, not one per retry)", n)
	}
}
