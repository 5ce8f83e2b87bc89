package rollout_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rollout"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, labtest.IgnoreLeaks()...)
}

func TestLabHappyPath(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetConfig{envs: 3, hosts: 2, services: 3,
		svcOpts: []ranchersim.ServiceOption{ranchersim.WithLaunchConfigField("x-drover-unknown", map[string]any{"keep": []any{1.0, "me"}})}})
	f.prewarm(t, nil)
	before := f.rawService(t, "dev", f.svcs["dev"][0].ID())
	rep, err := f.engine(t).Apply(t.Context(), f.targets(t))
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, rep)
	}
	for env, ss := range f.svcs {
		want := f.region(env) + "/app:1.1"
		for _, s := range ss {
			if st := s.Status(); st.State != "active" || st.Image != want || st.HealthState != "healthy" {
				t.Errorf("%s %s: %+v, want active healthy %s", env, s.ID(), st, want)
			}
		}
	}
	for _, er := range rep.Envs {
		if er.Status != "done" || er.Gate == nil || !er.Gate.Open || er.Gate.Checked != 2 {
			t.Errorf("%s: %s gate %+v", er.Env, er.Status, er.Gate)
		}
	}
	checkWaveOrder(t, f, rep)
	// The launch config sent back is the old one except the image (the
	// server stamps a new version on every upgrade).
	after := f.rawService(t, "dev", f.svcs["dev"][0].ID())
	var lcBefore, lcAfter map[string]json.RawMessage
	if err := json.Unmarshal(before["launchConfig"], &lcBefore); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(after["launchConfig"], &lcAfter); err != nil {
		t.Fatal(err)
	}
	if len(lcBefore) != len(lcAfter) {
		t.Errorf("launchConfig keys: %d before, %d after", len(lcBefore), len(lcAfter))
	}
	for k, v := range lcBefore {
		switch k {
		case "imageUuid":
			if want := `"docker:` + f.region("dev") + `/app:1.1"`; string(lcAfter[k]) != want {
				t.Errorf("imageUuid = %s, want %s", lcAfter[k], want)
			}
		case "version":
		default:
			if !bytes.Equal(compact(t, v), compact(t, lcAfter[k])) {
				t.Errorf("launchConfig.%s changed: %s -> %s", k, v, lcAfter[k])
			}
		}
	}
	if _, ok := lcAfter["x-drover-unknown"]; !ok {
		t.Error("unknown launchConfig field lost")
	}
}

func compact(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// checkWaveOrder asserts, from the ordered log of write calls and "done"
// events, that every environment made one upgrade and one finish call per
// service and no rollback, and that no environment of a wave made its first
// write before every service of every earlier wave was done (finished and
// seen active).
func checkWaveOrder(t *testing.T, f *fleet, rep *rollout.Report) {
	t.Helper()
	log := f.writes.entries()
	wave := map[string]int{}
	for _, er := range rep.Envs {
		wave[er.Env] = er.Wave
	}
	lastDone := map[int]int{}   // wave -> index of its last "done"
	firstWrite := map[int]int{} // wave -> index of its first write
	for i, line := range log {
		env, op, _ := strings.Cut(line, " ")
		op, _, _ = strings.Cut(op, " ")
		w := wave[env]
		if op == "done" {
			lastDone[w] = i
		} else if _, ok := firstWrite[w]; !ok {
			firstWrite[w] = i
		}
	}
	for w, first := range firstWrite {
		for earlier, done := range lastDone {
			if earlier < w && first < done {
				t.Errorf("wave %d wrote (%s) before wave %d was done (%s)", w, log[first], earlier, log[done])
			}
		}
	}
	for _, er := range rep.Envs {
		n := len(er.Services)
		// An action whose answer was lost to a fault test's 5xx burst (on
		// its POST or the read around it) is sent again once a re-read
		// shows it did not take effect, so the engine may call more than
		// once; Rancher must accept exactly one upgrade and one finish per
		// service.
		project := "/projects/" + f.l.Project(er.Env).ID() + "/"
		accepted := func(action string) int {
			return len(f.http.lines("POST ", project, "?action="+action+" 202"))
		}
		u, fin, rb, d := f.writes.count(er.Env+" upgrade "), f.writes.count(er.Env+" finish "), f.writes.count(er.Env+" rollback "), f.writes.count(er.Env+" done ")
		if u < n || fin < n || rb != 0 || d != n || accepted("upgrade") != n || accepted("finishupgrade") != n {
			t.Errorf("%s: %d upgrades (%d accepted), %d finishes (%d accepted), %d rollbacks, %d done; want %d accepted of each, 0, %d",
				er.Env, u, accepted("upgrade"), fin, accepted("finishupgrade"), rb, d, n, n)
		}
	}
	if len(firstWrite) != len(rep.Envs) {
		t.Errorf("writes in %d waves, want %d", len(firstWrite), len(rep.Envs))
	}
}
