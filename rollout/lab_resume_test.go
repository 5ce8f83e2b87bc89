package rollout_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/rollout"
)

// TestLabResume: a run with a journal is killed (both signals) while qa's
// second service is upgrading, after dev finished; a new engine resuming
// from the journal finishes the rollout without upgrading again what the
// first run finished or started.
func TestLabResume(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 2, hosts: 2, services: 3})
	f.prewarm(t, nil)
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := rollout.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	abort := make(chan struct{})
	f.onEvent = func(ev rollout.Event) {
		if ev.Env == "qa" && ev.Service == "web/svc01" && ev.State == "upgrading" && ctx.Err() == nil {
			cancel()
			close(abort) // the crash: nothing is brought to rest
		}
	}
	targets := f.targets(t)
	targets[1].Concurrency = 1 // qa: svc00 upgraded, svc01 in flight, svc02 not started
	rep, err := f.engine(t, rollout.WithJournal(j), rollout.WithAbort(abort)).Apply(ctx, targets)
	if err == nil || ctx.Err() == nil {
		t.Fatalf("first run: err = %v, not killed: %s", err, rep)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := f.opsOn("qa"), []string{"upgrade svc00", "upgrade svc01"}; !slices.Equal(got, want) {
		t.Fatalf("first run qa writes %v, want %v", got, want)
	}
	if n := f.writes.count("dev finish "); n != 3 {
		t.Fatalf("first run finished %d dev services, want 3", n)
	}

	entries, err := rollout.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	f.writes = &writeLog{}
	f.onEvent = nil
	rep, err = f.engine(t, rollout.WithResume(entries)).Apply(t.Context(), f.targets(t))
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, rep)
	}
	if got := f.opsOn("dev"); len(got) != 0 {
		t.Errorf("resume wrote to dev: %v", got)
	}
	if got, want := f.opsOn("qa"), []string{"upgrade svc02", "finish svc00", "finish svc01", "finish svc02"}; !sameElems(got, want) {
		t.Errorf("resume qa writes %v, want %v (no second upgrade of svc00, svc01)", got, want)
	}
	outcomes := map[string][]string{}
	for _, er := range rep.Envs {
		for _, s := range er.Services {
			outcomes[er.Env] = append(outcomes[er.Env], s.Outcome)
		}
	}
	if got := outcomes["dev"]; !slices.Equal(got, []string{"skipped", "skipped", "skipped"}) {
		t.Errorf("dev outcomes %v, want skipped", got)
	}
	if got := outcomes["qa"]; !slices.Equal(got, []string{"finished", "finished", "finished"}) {
		t.Errorf("qa outcomes %v, want finished", got)
	}
	for env, ss := range f.svcs {
		for i, s := range ss {
			if st := s.Status(); st.State != "active" || !strings.HasSuffix(st.Image, "/app:1.1") {
				t.Errorf("%s %s: %s %s, want active app:1.1", env, f.name(i), st.State, st.Image)
			}
		}
	}
}

func sameElems(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
