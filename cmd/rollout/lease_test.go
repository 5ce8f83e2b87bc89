package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rancher/lease"
)

// leaseObjects are the lab's live lease objects in dev.
func (c *labCLI) leaseObjects() []string {
	var ids []string
	for _, o := range c.l.Project("dev").GenericObjects() {
		if o.Kind == lease.Kind && o.State == "active" {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// buildRollout builds this command into a temporary directory: tests that
// need separate processes run it.
func buildRollout(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rollout")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestLabConcurrentApplies: two rollout processes (the built binary, not
// goroutines) apply the release to one environment at once. Exactly one
// proceeds; the other exits 4 before any write, naming the holder, and the
// first is not rolled back. The lease is gone once the run has ended.
//
// The hosts lack app:1.1 and neither run pulls it, so whichever run holds
// the lease waits at the gate; the image is put on the hosts only once one
// run has exited. The holder therefore cannot finish (and free the lease)
// before the other has contended for it, however the two are scheduled.
func TestLabConcurrentApplies(t *testing.T) {
	c := newLabCLI(t)
	bin := buildRollout(t)
	type result struct {
		code           int
		stdout, stderr string
	}
	res := make([]result, 2)
	exited := make(chan int, 2)
	var wg sync.WaitGroup
	for i := range res {
		cmd := exec.CommandContext(t.Context(), bin, "apply", "-c", c.inv, "-f", c.rel, "--gate-timeout", "60s", "--gate-interval", "100ms", "--soak", "0s", "--upgrade-timeout", "30s")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			err := cmd.Wait()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				res[i].code = ee.ExitCode()
			} else if err != nil {
				t.Errorf("run %d: %v", i, err)
			}
			res[i].stdout, res[i].stderr = out.String(), errb.String()
			exited <- i
		})
	}
	first := <-exited
	if ids := c.leaseObjects(); len(ids) != 1 {
		t.Errorf("lease objects %v while the other run waits at the gate, want its one", ids)
	}
	for _, h := range c.l.Inventory().Environments[0].Hosts {
		if err := c.l.DockerHost(h.Name).Preload(t.Context(), c.region+"/app:1.1"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	lost, won := res[first], res[1-first]
	if won.code != cli.ExitOK || lost.code != cli.ExitBusy {
		t.Fatalf("exit codes %d (first to exit) and %d, want %d and 0\n--- first:\n%s%s\n--- second:\n%s%s", lost.code, won.code, cli.ExitBusy,
			lost.stdout, lost.stderr, won.stdout, won.stderr)
	}
	for _, want := range []string{"environment dev is held by", " pid ", `running "rollout apply -c ` + c.inv + ` --env dev -f ` + c.rel + `"`, "since", "nothing was changed", "`rollout unlock -c " + c.inv + " --env dev`"} {
		if !strings.Contains(lost.stderr, want) {
			t.Errorf("the second run's error lacks %q:\n%s", want, lost.stderr)
		}
	}
	if lost.stdout != "" {
		t.Errorf("the second run printed a report (it must stop before any work):\n%s", lost.stdout)
	}
	if state, img := c.image(t); state != "active" || img != c.region+"/app:1.1" {
		t.Errorf("service %s %s, want active at app:1.1 (the winner's upgrade, not rolled back)\n%s", state, img, won.stdout)
	}
	if ids := c.leaseObjects(); len(ids) != 0 {
		t.Errorf("lease objects %v left after both runs ended", ids)
	}
}

// TestLabLeaseReleased: a run gives its lease back however it ends: an
// apply that fails (exit 1, the gate closed) and an apply process stopped
// by Ctrl-C (SIGINT) while it holds the lease leave no lease object, and
// the next run proceeds.
func TestLabLeaseReleased(t *testing.T) {
	c := newLabCLI(t)
	if code, stdout, stderr := c.run(t, "apply", "-f", c.rel, "--gate-timeout", "0s"); code != cli.ExitFailed {
		t.Fatalf("apply with a closed gate: exit %d, want %d\n%s%s", code, cli.ExitFailed, stdout, stderr)
	}
	if ids := c.leaseObjects(); len(ids) != 0 {
		t.Errorf("lease objects %v after a failed apply", ids)
	}

	bin := buildRollout(t)
	cmd := exec.CommandContext(t.Context(), bin, "apply", "-c", c.inv, "-f", c.rel, "--gate-timeout", "60s", "--gate-interval", "100ms")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The gate runs once the lease is held: its first event means the
	// run holds it.
	var lines strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		lines.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "step=gate") {
			break
		}
	}
	if ids := c.leaseObjects(); len(ids) != 1 {
		t.Errorf("lease objects %v while the run waits at the gate, want one", ids)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	lines.Write(rest)
	err = cmd.Wait()
	if ee := (*exec.ExitError)(nil); err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if !strings.Contains(lines.String(), "interrupted") {
		t.Errorf("the run did not see the interrupt (exit %d):\n%s", cmd.ProcessState.ExitCode(), lines.String())
	}
	if ids := c.leaseObjects(); len(ids) != 0 {
		t.Errorf("lease objects %v after Ctrl-C (exit %d):\n%s", ids, cmd.ProcessState.ExitCode(), lines.String())
	}
	if code, stdout, stderr := c.run(t, "apply", "-f", c.rel, "--prewarm", "--soak", "0s", "--upgrade-timeout", "30s"); code != cli.ExitOK {
		t.Errorf("apply after the interrupted one: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestLabCrashedHolder: a lease whose holder crashed (its expiry passed) is
// taken over with a warning; status shows a live holder and, before the
// commands that resolve a pending upgrade (they would exit 4), the unlock
// command; every one of them runs as printed, as does the unlock of the
// exit-4 error; unlock says who held the lease.
func TestLabCrashedHolder(t *testing.T) {
	c := newLabCLI(t)
	st, err := rancher.Resolve(c.l.Inventory(), "dev", c.l.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	store, err := lease.NewHTTPStore(nil, strings.TrimRight(st.URL, "/")+"/v2-beta/projects/"+c.l.Project("dev").ID(), st.AccessKey, st.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	plant := func(who string, expires time.Time) string {
		t.Helper()
		data, _ := json.Marshal(map[string]any{"who": who, "where": "box pid 42", "command": "rollout apply --env dev",
			"since": expires.Add(-time.Hour), "expiresAt": expires})
		o, err := store.Create(t.Context(), lease.Object{Name: "drover lease dev", Kind: lease.Kind, Key: "dev", ResourceData: data})
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	crashed := plant("carol@crashed", time.Now().Add(-time.Minute))
	code, stdout, stderr := c.run(t, "apply", "-f", c.rel, "--prewarm", "--finish", "manual", "--soak", "0s", "--upgrade-timeout", "30s")
	if code != cli.ExitOK || !strings.Contains(stderr, "taking over an expired lease") || !strings.Contains(stderr, "carol@crashed") {
		t.Fatalf("apply over a crashed holder's lease: exit %d, want 0 with a warning naming carol@crashed\n%s%s", code, stdout, stderr)
	}
	for _, id := range c.leaseObjects() {
		if id == crashed {
			t.Errorf("the crashed holder's lease %s is still there", id)
		}
	}

	// An expired lease is taken over by the next run: status offers no unlock.
	plant("carol@crashed", time.Now().Add(-time.Minute))
	if code, stdout, _ = c.run(t, "status", "--env", "dev"); code != cli.ExitOK || !strings.Contains(stdout, "carol@crashed") || strings.Contains(stdout, "unlock") {
		t.Errorf("status with an expired lease: exit %d, want the holder named and no unlock:\n%s", code, stdout)
	}
	c.run(t, "unlock", "--env", "dev")

	plant("dave@live", time.Now().Add(time.Hour))
	code, stdout, _ = c.run(t, "status", "--env", "dev")
	unlock := "rollout unlock -c " + c.inv + " --env dev"
	if code != cli.ExitOK || !strings.Contains(stdout, `dev: held by dave@live on box pid 42 running "rollout apply --env dev" since`) ||
		!strings.Contains(stdout, "\n  "+unlock+"\n") || strings.Index(stdout, unlock) > strings.Index(stdout, "rollout finish") {
		t.Errorf("status with a live holder: exit %d, want the holder named, then %q before the finish command:\n%s", code, unlock, stdout)
	}
	statusText := stdout
	code, stdout, stderr = c.run(t, "rollback", "--env", "dev", "--service", "web/svc01")
	if code != cli.ExitBusy || !strings.Contains(stderr, "held by dave@live") || !strings.Contains(stderr, "`"+unlock+"`") {
		t.Errorf("rollback while held: exit %d, want %d naming dave@live and %q\n%s%s", code, cli.ExitBusy, unlock, stdout, stderr)
	}
	if state, img := c.image(t); state != "upgraded" || img != c.region+"/app:1.1" {
		t.Errorf("service %s %s after a refused rollback, want it untouched, upgraded to app:1.1", state, img)
	}
	// The exit-4 error's unlock, as printed, removes the lease.
	if got := c.printed(t, t.Context(), "", stderr, cli.ExitOK); !slices.Equal(got, []string{"rollout unlock"}) {
		t.Errorf("exit 4 printed %q, want one unlock", got)
	}
	if ids := c.leaseObjects(); len(ids) != 0 {
		t.Errorf("lease objects %v after the printed unlock", ids)
	}

	// status's commands, in order, as printed: unlock, then finish (the
	// rollback after "# or:" is the other choice, not a next step).
	plant("dave@live", time.Now().Add(time.Hour))
	var cmds strings.Builder
	for line := range strings.Lines(statusText) {
		line, _, _ = strings.Cut(line, "#")
		cmds.WriteString(line + "\n")
	}
	if got := c.printed(t, t.Context(), "", cmds.String(), cli.ExitOK); !slices.Equal(got, []string{"rollout unlock", "rollout finish"}) {
		t.Errorf("status printed %q, want unlock then finish", got)
	}
	if state, img := c.image(t); state != "active" || img != c.region+"/app:1.1" {
		t.Errorf("after status's printed commands: %s %s, want active app:1.1", state, img)
	}

	plant("erin@live", time.Now().Add(time.Hour))
	code, stdout, stderr = c.run(t, "unlock", "--env", "dev")
	if code != cli.ExitOK || !strings.Contains(stdout, "dev: removed lease, held by erin@live") {
		t.Errorf("unlock: exit %d, want it to name erin@live\n%s%s", code, stdout, stderr)
	}
	if ids := c.leaseObjects(); len(ids) != 0 {
		t.Errorf("lease objects %v after unlock", ids)
	}
	if code, stdout, _ = c.run(t, "unlock", "--env", "dev"); code != cli.ExitOK || stdout != "dev: not held\n" {
		t.Errorf("unlock of a free environment: exit %d, %q", code, stdout)
	}
}

// TestLabHeldSendsNoNotification: a run refused because another holds the
// environment's lease (exit 4) changed nothing and never started: it sends
// no notification (it sent run-started, and never its run-finished).
func TestLabHeldSendsNoNotification(t *testing.T) {
	c := newLabCLI(t)
	st, err := rancher.Resolve(c.l.Inventory(), "dev", c.l.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	store, err := lease.NewHTTPStore(nil, strings.TrimRight(st.URL, "/")+"/v2-beta/projects/"+c.l.Project("dev").ID(), st.AccessKey, st.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]any{"who": "dave@live", "where": "box pid 42", "command": "rollout apply --env dev",
		"since": time.Now(), "expiresAt": time.Now().Add(time.Hour)})
	if _, err := store.Create(t.Context(), lease.Object{Name: "drover lease dev", Kind: lease.Kind, Key: "dev", ResourceData: data}); err != nil {
		t.Fatal(err)
	}
	js := &hookRecorder{t: t}
	srv := httptest.NewServer(js)
	defer srv.Close()
	code, stdout, stderr := c.run(t, "apply", "-f", c.rel, "--env", "dev", "--soak", "0s", "--notify", srv.URL)
	if code != cli.ExitBusy || !strings.Contains(stderr, "dave@live") {
		t.Fatalf("apply while dave@live holds dev: exit %d, want 4 naming the holder\n%s%s", code, stdout, stderr)
	}
	if bodies := js.take(); len(bodies) != 0 {
		t.Errorf("a run refused by the lease sent %d notifications (first: %v), want none", len(bodies), bodies[0]["event"])
	}
}
