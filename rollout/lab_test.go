package rollout_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/lab/labtest"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
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
