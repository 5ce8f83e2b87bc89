package fleet

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher/dockersocket"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func fakeLock() *inventory.Lock {
	return &inventory.Lock{Images: []inventory.LockImage{{Name: "app", Repository: "team/app", Tag: "1.0", Digest: testDigest}}}
}

// fakeHosts spreads n hosts over the given region registries.
func fakeHosts(n int, registries ...string) []Target {
	var out []Target
	for i := range n {
		r := registries[i%len(registries)]
		out = append(out, Target{Name: fmt.Sprintf("h%02d", i), Env: "env-" + r, Region: r, Registry: r, Docker: "fake"})
	}
	return out
}

func TestPullBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		hosts               int
		concurrency, perReg int
		limits              map[string]int
		wantReg             map[string]int
		wantTotal           int
		wantTime            time.Duration
	}{
		{name: "registry limit binds", hosts: 12, concurrency: 10, perReg: 2, wantReg: map[string]int{"r1:5000": 2, "r2:5000": 2}, wantTotal: 4, wantTime: 3 * time.Minute},
		{name: "overall limit binds", hosts: 12, concurrency: 3, perReg: 8, wantTotal: 3, wantTime: 4 * time.Minute},
		{name: "inventory limit per registry", hosts: 12, concurrency: 12, perReg: 4, limits: map[string]int{"r2:5000": 1}, wantReg: map[string]int{"r1:5000": 4, "r2:5000": 1}, wantTotal: 5, wantTime: 6 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f := newFleet()
				f.pullTime = time.Minute
				opts := []Option{WithDial(f.dial), WithConcurrency(tc.concurrency), WithRegistryLimit(tc.perReg)}
				if tc.limits != nil {
					opts = append(opts, WithRegistryLimits(tc.limits))
				}
				rep, err := Pull(t.Context(), fakeHosts(tc.hosts, "r1:5000", "r2:5000"), fakeLock(), opts...)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Failed()) != 0 {
					t.Fatalf("failed: %v", rep.Failed())
				}
				for reg, want := range tc.wantReg {
					if f.maxIn[reg] != want {
						t.Errorf("max concurrent pulls from %s = %d, want %d", reg, f.maxIn[reg], want)
					}
				}
				if f.maxTotal != tc.wantTotal {
					t.Errorf("max concurrent pulls = %d, want %d", f.maxTotal, tc.wantTotal)
				}
				if rep.Seconds != tc.wantTime.Seconds() {
					t.Errorf("took %vs, want %v", rep.Seconds, tc.wantTime)
				}
			})
		})
	}
}

func TestPullRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		failures     int
		failMsg      string
		pullErr      error
		retries      int
		wantAttempts int
		wantBackoffs []int
		wantErr      error
	}{
		{name: "in-stream failures retried", failures: 2, retries: 3, wantAttempts: 3, wantBackoffs: []int{1, 2}},
		{name: "retries exhausted", failures: 5, retries: 2, wantAttempts: 3, wantBackoffs: []int{1, 2}, wantErr: ErrPullStream},
		{name: "no retries", failures: 1, retries: 0, wantAttempts: 1, wantErr: ErrPullStream},
		{name: "unauthorized not retried", pullErr: cerrdefs.ErrUnauthenticated.WithMessage("no basic auth credentials"), retries: 3, wantAttempts: 1, wantErr: cerrdefs.ErrUnauthenticated},
		{name: "missing in region, no fallback", pullErr: cerrdefs.ErrNotFound.WithMessage("manifest unknown"), retries: 3, wantAttempts: 1, wantErr: ErrNotInRegion},
		// dockerd's words for a layer the registry lacks (a foreign layer
		// of a region at foreignLayers: urls, on a host that cannot or
		// does not follow its urls): a retry cannot change it.
		{name: "layer missing in region", failures: 5, failMsg: "unknown blob", retries: 3, wantAttempts: 1, wantErr: ErrNotInRegion},
		{name: "layer missing in region, lab's words", failures: 5, failMsg: "blob unknown: blob unknown to registry", retries: 3, wantAttempts: 1, wantErr: ErrNotInRegion},
		// Through Rancher: a refusal (the key's role, a bad token, a
		// ws:// URL) stays one whatever the retries; a dropped relay or an
		// agent that is away may be back.
		{name: "relay: action refused not retried", pullErr: relayErr(dockersocket.ErrActionMissing), retries: 3, wantAttempts: 1, wantErr: dockersocket.ErrActionMissing},
		{name: "relay: token refused not retried", pullErr: relayErr(dockersocket.ErrTokenRefused), retries: 3, wantAttempts: 1, wantErr: dockersocket.ErrTokenRefused},
		{name: "relay: ws URL not retried", pullErr: relayErr(dockersocket.ErrInsecureURL), retries: 3, wantAttempts: 1, wantErr: dockersocket.ErrInsecureURL},
		{name: "relay: dropped retried", pullErr: relayErr(dockersocket.ErrRelayClosed), retries: 2, wantAttempts: 3, wantBackoffs: []int{1, 2}, wantErr: dockersocket.ErrRelayClosed},
		{name: "relay: agent away retried", pullErr: relayErr(dockersocket.ErrHostNotActive), retries: 2, wantAttempts: 3, wantBackoffs: []int{1, 2}, wantErr: dockersocket.ErrHostNotActive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f := newFleet()
				f.failures, f.failMsg, f.pullErr = tc.failures, tc.failMsg, tc.pullErr
				var mu sync.Mutex
				var backoffs []int
				backoff := func(n int) time.Duration {
					mu.Lock()
					defer mu.Unlock()
					backoffs = append(backoffs, n)
					return time.Duration(n) * time.Second
				}
				rep, err := Pull(t.Context(), fakeHosts(1, "r1:5000"), fakeLock(), WithDial(f.dial), WithRetries(tc.retries), WithBackoff(backoff))
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				ir := rep.Hosts[0].Images[0]
				if ir.Attempts != tc.wantAttempts {
					t.Errorf("attempts %d, want %d", ir.Attempts, tc.wantAttempts)
				}
				if !slices.Equal(backoffs, tc.wantBackoffs) {
					t.Errorf("backoffs %v, want %v", backoffs, tc.wantBackoffs)
				}
			})
		})
	}
}

// relayErr is sentinel as a connection through Rancher fails with it.
func relayErr(sentinel error) error {
	return viaRancherError(Target{Name: "h00", Env: "qa"}, "$QA_ACCESS_KEY / $QA_SECRET_KEY", fmt.Errorf("dockersocket: host h00: %w", sentinel))
}

func TestHungHostHitsTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.hang = true
		start := time.Now()
		rep, err := Pull(t.Context(), fakeHosts(3, "r1:5000"), fakeLock(), WithDial(f.dial), WithTimeout(90*time.Second))
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("err %v, want ErrUnreachable", err)
		}
		if got := time.Since(start); got != 90*time.Second {
			t.Errorf("gave up after %v, want the 90s timeout", got)
		}
		if got := rep.Failed(); len(got) != 3 {
			t.Errorf("Failed() = %v, want all 3", got)
		}
	})
}

func TestProgressBytesIgnoreExtract(t *testing.T) {
	t.Parallel()
	f := newFleet()
	var mu sync.Mutex
	var last Progress
	_, err := Pull(t.Context(), fakeHosts(1, "r1:5000"), fakeLock(), WithDial(f.dial), WithProgress(func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Phase == "pulling" && p.Total > 0 {
			last = p
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if last.Current != 1024 || last.Total != 1024 {
		t.Errorf("last progress %d/%d, want 1024/1024 (Extracting seconds must not count)", last.Current, last.Total)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, o := range []Option{WithConcurrency(0), WithRegistryLimit(0), WithRegistryLimits(map[string]int{"r": 0}), WithTimeout(0), WithRetries(-1), WithBackoff(nil), WithFallbackSource(""), WithAuth(nil), WithDial(nil), WithProgress(nil), WithLogger(nil)} {
		if _, err := Pull(t.Context(), fakeHosts(1, "r"), fakeLock(), o); err == nil {
			t.Errorf("option accepted, want an error")
		}
	}
}
