package lease_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rancher/lease"
)

var keys = ranchersim.Keys{Access: "AK", Secret: "SK"}

// lab is a simulated Rancher served over an in-memory pipe, so it runs inside a
// synctest bubble, with one project "dev".
type lab struct {
	s     *ranchersim.Server
	p     *ranchersim.Project
	store *lease.HTTPStore
}

func newLab(t *testing.T) *lab {
	t.Helper()
	pipe := ranchersim.PipeListener()
	s, err := ranchersim.Start(t.Context(), ranchersim.WithListener(pipe))
	if err != nil {
		t.Fatal(err)
	}
	client := pipe.Client()
	t.Cleanup(func() {
		client.CloseIdleConnections()
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	p := s.AddProject("dev", keys)
	store, err := lease.NewHTTPStore(client, s.URL()+"/v2-beta/projects/"+p.ID(), keys.Access, keys.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return &lab{s: s, p: p, store: store}
}

func (l *lab) manager(t *testing.T, opts ...lease.Option) *lease.Manager {
	t.Helper()
	m, err := lease.New(l.store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func info(who string) lease.Info {
	return lease.Info{Who: who, Where: "box pid 1", Command: "rollout apply --env dev", Since: time.Now()}
}

func (l *lab) leaseObjects() []ranchersim.GenericObject {
	var out []ranchersim.GenericObject
	for _, o := range l.p.GenericObjects() {
		if o.Kind == lease.Kind {
			out = append(out, o)
		}
	}
	return out
}

// TestRace: two runs acquire at once; exactly one holds the lease, the other is told
// who, and leaves no object behind.
func TestRace(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		m := l.manager(t)
		var wg sync.WaitGroup
		leases := make([]*lease.Lease, 2)
		errs := make([]error, 2)
		for i, who := range []string{"alice@a", "bob@b"} {
			wg.Go(func() { leases[i], errs[i] = m.Acquire(t.Context(), "dev", info(who)) })
		}
		wg.Wait()
		winner := -1
		for i := range 2 {
			if errs[i] == nil {
				if winner >= 0 {
					t.Fatal("both runs hold the lease")
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("nobody holds the lease: %v", errs)
		}
		loser := 1 - winner
		var held *lease.HeldError
		if !errors.As(errs[loser], &held) || !errors.Is(errs[loser], lease.ErrHeld) {
			t.Fatalf("loser: %v, want a *HeldError", errs[loser])
		}
		wantWho := []string{"alice@a", "bob@b"}[winner]
		if held.Holder.Who != wantWho || held.Holder.ID != leases[winner].ID() ||
			!strings.Contains(held.Error(), wantWho) || !strings.Contains(held.Error(), "rollout apply --env dev") {
			t.Errorf("held error names %+v (%v), want %s", held.Holder, held, wantWho)
		}
		if objs := l.leaseObjects(); len(objs) != 1 || objs[0].ID != leases[winner].ID() {
			t.Errorf("lease objects after the race: %+v, want only the winner's", objs)
		}
		if err := leases[winner].Release(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestExpiredHolderTakenOver: a lease whose holder stopped renewing (crashed) is taken
// over with a warning naming it.
func TestExpiredHolderTakenOver(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		fs := &faultyStore{Store: l.store}
		crashed, err := lease.New(fs, lease.WithTTL(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		old, err := crashed.Acquire(t.Context(), "dev", info("carol@c"))
		if err != nil {
			t.Fatal(err)
		}
		fs.crash() // never renewed, never released
		// Another environment's lease is not touched.
		other, err := l.manager(t).Acquire(t.Context(), "prod", info("erin@e"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = other.Release(t.Context()) }()
		time.Sleep(2 * time.Minute)

		m := l.manager(t, lease.WithLogger(logger))
		if h, err := m.Inspect(t.Context(), "dev"); err != nil || h == nil || !h.Expired || h.Who != "carol@c" {
			t.Fatalf("Inspect before takeover: %+v, %v; want carol's, expired", h, err)
		}
		got, err := m.Acquire(t.Context(), "dev", info("dave@d"))
		if err != nil {
			t.Fatalf("acquire over an expired lease: %v", err)
		}
		if to := got.TakenOver(); len(to) != 1 || to[0].Who != "carol@c" || to[0].ID != old.ID() {
			t.Errorf("TakenOver = %+v, want carol's %s", to, old.ID())
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "carol@c") {
			t.Errorf("no warning naming the crashed holder: %q", logs.String())
		}
		ids := map[string]bool{}
		for _, o := range l.leaseObjects() {
			ids[o.ID] = true
		}
		if len(ids) != 2 || !ids[got.ID()] || !ids[other.ID()] {
			t.Errorf("lease objects %v, want the new dev lease and the prod one", ids)
		}
		_ = got.Release(t.Context())
	})
}

// faultyStore wraps a Store: once crashed, updates fail (the holder can no longer
// renew, as if its process had died); hide drops an id from the first List.
type faultyStore struct {
	lease.Store
	mu      sync.Mutex
	crashed bool
	hide    string
}

func (f *faultyStore) crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crashed = true
}

func (f *faultyStore) Update(ctx context.Context, id string, data json.RawMessage) (lease.Object, error) {
	f.mu.Lock()
	crashed := f.crashed
	f.mu.Unlock()
	if crashed {
		return lease.Object{}, errors.New("crashed")
	}
	return f.Store.Update(ctx, id, data)
}

func (f *faultyStore) List(ctx context.Context, kind, key string) ([]lease.Object, error) {
	objs, err := f.Store.List(ctx, kind, key)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hide != "" {
		for i, o := range objs {
			if o.ID == f.hide {
				objs = append(objs[:i], objs[i+1:]...)
				break
			}
		}
		f.hide = ""
	}
	return objs, err
}

// TestSettle: an object with a lower id that commits after our first list (a real
// database can do that) is seen by the second look, and we back off.
func TestSettle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		first, err := l.manager(t).Acquire(t.Context(), "dev", info("alice@a"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = first.Release(t.Context()) }()
		for _, settle := range []time.Duration{0, time.Second} {
			fs := &faultyStore{Store: l.store, hide: first.ID()}
			m, err := lease.New(fs, lease.WithSettle(settle))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Acquire(t.Context(), "dev", info("bob@b"))
			if settle == 0 {
				// Without the second look the hidden holder is missed: the hazard.
				if err != nil {
					t.Fatalf("settle 0: %v", err)
				}
				_ = got.Release(t.Context())
				continue
			}
			var held *lease.HeldError
			if !errors.As(err, &held) || held.Holder.Who != "alice@a" {
				t.Fatalf("settle %v: %v, want held by alice", settle, err)
			}
		}
		if objs := l.leaseObjects(); len(objs) != 1 || objs[0].ID != first.ID() {
			t.Errorf("objects %+v, want only alice's", objs)
		}
	})
}

// TestRenewKeepsAlive: a held lease outlives many TTLs, and a second run is refused
// all along; after Release the environment is free.
func TestRenewKeepsAlive(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		m := l.manager(t, lease.WithTTL(30*time.Second))
		held, err := m.Acquire(t.Context(), "dev", info("alice@a"))
		if err != nil {
			t.Fatal(err)
		}
		first := held.ExpiresAt()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if !held.ExpiresAt().After(first.Add(4 * time.Minute)) {
			t.Errorf("expiry %v not renewed (first %v)", held.ExpiresAt(), first)
		}
		if _, err := m.Acquire(t.Context(), "dev", info("bob@b")); !errors.Is(err, lease.ErrHeld) {
			t.Fatalf("second run after 10 TTLs: %v, want ErrHeld", err)
		}
		if h, err := m.Inspect(t.Context(), "dev"); err != nil || h == nil || h.Who != "alice@a" || h.Expired {
			t.Errorf("Inspect = %+v, %v", h, err)
		}
		if held.Err() != nil {
			t.Errorf("Err = %v while held", held.Err())
		}
		// Release works with a cancelled context (Ctrl-C).
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := held.Release(ctx); err != nil {
			t.Fatalf("release: %v", err)
		}
		if objs := l.leaseObjects(); len(objs) != 0 {
			t.Errorf("objects after release: %+v", objs)
		}
		if h, err := m.Inspect(t.Context(), "dev"); err != nil || h != nil {
			t.Errorf("Inspect after release = %+v, %v, want nil", h, err)
		}
		again, err := m.Acquire(t.Context(), "dev", info("bob@b"))
		if err != nil {
			t.Fatalf("acquire after release: %v", err)
		}
		_ = again.Release(t.Context())
	})
}

// TestRenewalFailures: a renewal that fails is retried; renewals failing past the
// expiry lose the lease.
func TestRenewalFailures(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		m := l.manager(t, lease.WithTTL(30*time.Second))
		held, err := m.Acquire(t.Context(), "dev", info("alice@a"))
		if err != nil {
			t.Fatal(err)
		}
		l.s.FailRequests(1, http.StatusServiceUnavailable)
		time.Sleep(25 * time.Second) // one failed renewal at 10s, one good at 20s
		synctest.Wait()
		if held.Err() != nil {
			t.Fatalf("one failed renewal lost the lease: %v", held.Err())
		}
		l.s.FailRequests(1<<30, http.StatusServiceUnavailable)
		select {
		case <-held.Lost():
		case <-time.After(time.Minute):
			t.Fatal("lease not lost after renewals failed past its expiry")
		}
		if err := held.Err(); !errors.Is(err, lease.ErrLost) || !strings.Contains(err.Error(), "503") {
			t.Errorf("Err = %v, want ErrLost naming the last failure", err)
		}
		l.s.FailRequests(0, http.StatusServiceUnavailable)
		if err := held.Release(t.Context()); err != nil {
			t.Errorf("release after loss: %v", err)
		}
	})
}

// TestForceUnlock: a human removes a live lease; its holder notices at its next renewal.
func TestForceUnlock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		m := l.manager(t, lease.WithTTL(30*time.Second))
		held, err := m.Acquire(t.Context(), "dev", info("alice@a"))
		if err != nil {
			t.Fatal(err)
		}
		removed, err := m.ForceUnlock(t.Context(), "dev")
		if err != nil || len(removed) != 1 || removed[0].Who != "alice@a" {
			t.Fatalf("ForceUnlock = %+v, %v", removed, err)
		}
		if objs := l.leaseObjects(); len(objs) != 0 {
			t.Errorf("objects after unlock: %+v", objs)
		}
		select {
		case <-held.Lost():
		case <-time.After(time.Minute):
			t.Fatal("holder did not notice the unlock")
		}
		if !errors.Is(held.Err(), lease.ErrLost) || !strings.Contains(held.Err().Error(), "removed") {
			t.Errorf("Err = %v", held.Err())
		}
		next, err := m.Acquire(t.Context(), "dev", info("bob@b"))
		if err != nil {
			t.Fatalf("acquire after unlock: %v", err)
		}
		if err := held.Release(t.Context()); err != nil {
			t.Errorf("releasing the lost lease: %v", err)
		}
		if objs := l.leaseObjects(); len(objs) != 1 || objs[0].ID != next.ID() {
			t.Errorf("releasing the lost lease touched the new one: %+v", objs)
		}
		_ = next.Release(t.Context())
	})
}

// TestResourceData: the object carries the holder and the expiry under kind droverLease
// and key = environment, as other tools (and humans with the Rancher UI's API view) see it.
func TestResourceData(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		m := l.manager(t)
		held, err := m.Acquire(t.Context(), "dev", info("alice@a"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = held.Release(t.Context()) }()
		objs := l.leaseObjects()
		if len(objs) != 1 || objs[0].Key != "dev" {
			t.Fatalf("objects %+v", objs)
		}
		b, _ := json.Marshal(objs[0].ResourceData)
		for _, want := range []string{`"who":"alice@a"`, `"where":"box pid 1"`, `"command":"rollout apply --env dev"`, `"expiresAt":`, `"since":`} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("resourceData %s lacks %s", b, want)
			}
		}
	})
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  lease.Option
	}{
		{"ttl too short", lease.WithTTL(time.Second)},
		{"negative settle", lease.WithSettle(-time.Second)},
		{"zero release timeout", lease.WithReleaseTimeout(0)},
		{"nil clock", lease.WithClock(nil)},
		{"nil logger", lease.WithLogger(nil)},
	}
	store, err := lease.NewHTTPStore(nil, "http://127.0.0.1:1/v2-beta/projects/1a5", "a", "s")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if _, err := lease.New(store, tt.opt); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	for _, u := range []string{"", "ftp://x/", "rancher:8080"} {
		if _, err := lease.NewHTTPStore(nil, u, "a", "s"); err == nil {
			t.Errorf("NewHTTPStore(%q): no error", u)
		}
	}
}
