package rollout

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestGate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup runs before Apply; during runs in the bubble while Apply gates.
		setup       func(w *world, dev *fakeEnv)
		during      func(w *world)
		opts        []Option
		wantStatus  EnvStatus
		wantMissing []string
		wantPulls   int
	}{
		{
			name: "host missing: gate holds, no write",
			setup: func(w *world, dev *fakeEnv) {
				w.have("dev", "reg/app:2")
				w.setPresent("dev", "dev-h2", "reg/app:2", false)
			},
			opts:        []Option{WithGateTimeout(time.Minute), WithGateInterval(10 * time.Second)},
			wantStatus:  EnvGated,
			wantMissing: []string{"dev-h2"},
		},
		{
			name: "unreachable host counts as missing",
			setup: func(w *world, dev *fakeEnv) {
				w.have("dev", "reg/app:2")
				w.presenceErr["dev-h1"] = errors.New("dial tcp: connection refused")
			},
			wantStatus:  EnvGated,
			wantMissing: []string{"dev-h1"},
		},
		{
			name: "inactive host left out",
			setup: func(w *world, dev *fakeEnv) {
				w.have("dev", "reg/app:2")
				w.setPresent("dev", "dev-h3", "reg/app:2", false)
				dev.hosts[2].State = "disconnected"
			},
			wantStatus: EnvDone,
		},
		{
			name: "scheduling labels narrow the hosts",
			setup: func(w *world, dev *fakeEnv) {
				dev.hosts[0].Labels = map[string]string{"zone": "dmz"}
				dev.set("web/a", func(s *Service) { s.Labels = map[string]string{labelHostAffinity: "zone=dmz"} })
				w.setPresent("dev", "dev-h1", "reg/app:2", true)
			},
			wantStatus: EnvDone,
		},
		{
			name:  "image arrives while the gate waits",
			setup: func(w *world, dev *fakeEnv) {},
			during: func(w *world) {
				time.Sleep(25 * time.Second)
				w.have("dev", "reg/app:2")
			},
			opts:       []Option{WithGateTimeout(time.Minute), WithGateInterval(10 * time.Second)},
			wantStatus: EnvDone,
		},
		{
			name:       "prewarm pulls the missing ones",
			setup:      func(w *world, dev *fakeEnv) { w.setPresent("dev", "dev-h1", "reg/app:2", true) },
			opts:       []Option{WithPrewarm(nil)}, // replaced below
			wantStatus: EnvDone,
			wantPulls:  2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 3)
				dev.add("web", "a", "reg/app:1", 2)
				tt.setup(w, dev)
				opts := slices.Clone(tt.opts)
				if tt.wantPulls > 0 {
					opts = []Option{WithPrewarm(w)}
				}
				e := testEngine(t, w, opts...)
				if tt.during != nil {
					go tt.during(w)
				}
				rep, _ := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
				er := rep.Envs[0]
				if er.Status != tt.wantStatus {
					t.Fatalf("status %s (%s), want %s", er.Status, er.Cause, tt.wantStatus)
				}
				var missing []string
				for _, m := range er.Gate.Missing {
					missing = append(missing, m.Host)
				}
				if !slices.Equal(missing, tt.wantMissing) {
					t.Errorf("missing %v, want %v", missing, tt.wantMissing)
				}
				if tt.wantStatus == EnvGated {
					if got := w.writes("dev"); len(got) != 0 {
						t.Errorf("gated env made write calls: %v", got)
					}
					if !strings.Contains(er.Cause, "gate closed") || !strings.Contains(er.Cause, tt.wantMissing[0]) {
						t.Errorf("cause %q", er.Cause)
					}
				}
				if strings.Contains(tt.name, "inactive") && !slices.Equal(er.Gate.Inactive, []string{"dev-h3: disconnected"}) {
					t.Errorf("inactive %v", er.Gate.Inactive)
				}
				if len(w.pulls) != tt.wantPulls {
					t.Errorf("pulls %v, want %d", w.pulls, tt.wantPulls)
				}
			})
		})
	}
}

// TestGateHungHost: a host whose dockerd accepts the connection and never
// answers counts as missing once the gate's time is up: --gate-timeout
// bounds every presence check (it used to wait out the check's own
// timeout, prewarm's 30 minutes per call). With --gate-timeout 0 each check
// still gets minGateCheck.
func TestGateHungHost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		timeout, want time.Duration
	}{
		{2 * time.Minute, 2 * time.Minute},
		{0, minGateCheck},
	} {
		t.Run(tt.timeout.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 3)
				dev.add("web", "a", "reg/app:1", 2)
				w.have("dev", "reg/app:2")
				w.hang["dev-h2"] = true
				e := testEngine(t, w, WithGateTimeout(tt.timeout), WithGateInterval(10*time.Second))
				start := time.Now()
				rep, _ := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
				if took := time.Since(start); took != tt.want {
					t.Errorf("gate took %v, want %v", took, tt.want)
				}
				er := rep.Envs[0]
				if er.Status != EnvGated || len(er.Gate.Missing) != 1 || er.Gate.Missing[0].Host != "dev-h2" {
					t.Fatalf("status %s, gate %+v: want gated on dev-h2", er.Status, er.Gate)
				}
				if got, want := er.Gate.Missing[0].Error, "host dev-h2: no answer within "+tt.want.String(); !strings.HasPrefix(got, want) {
					t.Errorf("missing error %q, want it to start %q", got, want)
				}
				if got := w.writes("dev"); len(got) != 0 {
					t.Errorf("gated env made write calls: %v", got)
				}
			})
		})
	}
}

func TestCanRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		svc, host map[string]string
		want      bool
	}{
		{nil, nil, true},
		{map[string]string{labelHostAffinity: "zone=dmz"}, map[string]string{"zone": "dmz"}, true},
		{map[string]string{labelHostAffinity: "zone=dmz,os=windows"}, map[string]string{"zone": "dmz"}, false},
		{map[string]string{labelHostAffinity: "zone=dmz"}, nil, false},
		{map[string]string{labelHostAntiAff: "zone=dmz"}, map[string]string{"zone": "dmz"}, false},
		{map[string]string{labelHostAntiAff: "zone=dmz"}, map[string]string{"zone": "lan"}, true},
		{map[string]string{"io.rancher.scheduler.affinity:host_label_soft": "zone=dmz"}, nil, true},
	}
	for _, tt := range tests {
		if got := CanRun(tt.svc, tt.host); got != tt.want {
			t.Errorf("CanRun(%v, %v) = %v, want %v", tt.svc, tt.host, got, tt.want)
		}
	}
}

// TestGateNoPlatform: a host the locked image has no entry for (another
// Windows build) can never hold it, so the gate closes at its first check,
// with or without --prewarm, and pulls nothing. It used to re-check until
// --gate-timeout (10m by default) and, with --prewarm, pull in vain.
func TestGateNoPlatform(t *testing.T) {
	t.Parallel()
	for _, prewarm := range []bool{false, true} {
		t.Run(fmt.Sprintf("prewarm=%v", prewarm), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				dev := w.env("dev", 3)
				dev.add("web", "a", "reg/app:1", 2)
				w.have("dev", "reg/app:2")
				w.setPresent("dev", "dev-h1", "reg/app:2", false)
				w.presenceErr["dev-h2"] = fmt.Errorf("pull app on dev-h2 (dev): %w: host dev-h2 is windows/amd64 10.0.26100", ErrNoPlatform)
				opts := []Option{WithGateTimeout(10 * time.Minute), WithGateInterval(10 * time.Second)}
				if prewarm {
					opts = append(opts, WithPrewarm(w))
				}
				e := testEngine(t, w, opts...)
				start := time.Now()
				rep, _ := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
				if took := time.Since(start); took != 0 {
					t.Errorf("gate took %v, want no wait", took)
				}
				er := rep.Envs[0]
				if er.Status != EnvGated || len(er.Gate.Missing) != 2 {
					t.Fatalf("status %s, gate %+v: want gated on dev-h1 and dev-h2", er.Status, er.Gate)
				}
				if m := er.Gate.Missing; m[0].NoPlatform || !m[1].NoPlatform {
					t.Errorf("missing %+v: want only dev-h2 marked NoPlatform", m)
				}
				if !strings.Contains(er.Cause, "not waiting") || !strings.Contains(er.Cause, "10.0.26100") {
					t.Errorf("cause %q: want it to say why it did not wait, and the host's build", er.Cause)
				}
				if len(w.pulls) != 0 {
					t.Errorf("pulls %v, want none", w.pulls)
				}
				if got := w.writes("dev"); len(got) != 0 {
					t.Errorf("gated env made write calls: %v", got)
				}
			})
		})
	}
}

// TestGateRefused: a host Rancher refuses the API key access to (the key's
// role lacks modifyInfra: 403 or 422 on the dockersocket action) stays
// refused however long the gate waits, so the gate closes at its first
// check, with or without --prewarm, and pulls nothing. It used to re-check
// until --gate-timeout (10m by default).
func TestGateRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, msg, advice string }{
		{"action", "the key may not open the host's Docker socket (modifyInfra)", "modifyInfra"},
		{"token", "dockersocket: open wss://rancher/v1/dockersocket/: 401: rancher refused the dockersocket token; check the proxy", "check the proxy"},
		{"ws URL", "dockersocket: ws://rancher/v1/dockersocket/: unencrypted; set its api.host setting", "api.host"},
	} {
		for _, prewarm := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/prewarm=%v", tc.name, prewarm), func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					w := newWorld()
					dev := w.env("dev", 3)
					dev.add("web", "a", "reg/app:1", 2)
					w.have("dev", "reg/app:2")
					w.setPresent("dev", "dev-h1", "reg/app:2", false)
					w.presenceErr["dev-h2"] = fmt.Errorf("host dev-h2 (environment dev) through Rancher: %s: %w", tc.msg, ErrRefused)
					opts := []Option{WithGateTimeout(10 * time.Minute), WithGateInterval(10 * time.Second)}
					if prewarm {
						opts = append(opts, WithPrewarm(w))
					}
					e := testEngine(t, w, opts...)
					start := time.Now()
					rep, _ := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
					if took := time.Since(start); took != 0 {
						t.Errorf("gate took %v, want no wait", took)
					}
					er := rep.Envs[0]
					if er.Status != EnvGated || len(er.Gate.Missing) != 2 {
						t.Fatalf("status %s, gate %+v: want gated on dev-h1 and dev-h2", er.Status, er.Gate)
					}
					if m := er.Gate.Missing; m[0].Refused || !m[1].Refused {
						t.Errorf("missing %+v: want only dev-h2 marked Refused", m)
					}
					if !strings.Contains(er.Cause, "not waiting: Rancher refused") || !strings.Contains(er.Cause, tc.advice) {
						t.Errorf("cause %q: want it to say why it did not wait, and what to change (%q)", er.Cause, tc.advice)
					}
					if len(w.pulls) != 0 {
						t.Errorf("pulls %v, want none", w.pulls)
					}
					if got := w.writes("dev"); len(got) != 0 {
						t.Errorf("gated env made write calls: %v", got)
					}
				})
			})
		}
	}
}

// TestGateNotInInventory: a host Rancher runs the service on but the
// inventory does not list (ErrNotInInventory) is marked so in the gate's
// report, which leaves it out of the commands it prints.
func TestGateNotInInventory(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld()
		dev := w.env("dev", 2)
		dev.add("web", "a", "reg/app:1", 2)
		w.have("dev", "reg/app:2")
		w.setPresent("dev", "dev-h1", "reg/app:2", false)
		w.presenceErr["dev-h2"] = fmt.Errorf("host dev-h2 (in Rancher): %w", ErrNotInInventory)
		e := testEngine(t, w, WithGateTimeout(0))
		rep, _ := e.Apply(t.Context(), []EnvTarget{target("dev", 1, "web/a=reg/app:2")})
		er := rep.Envs[0]
		if er.Status != EnvGated || len(er.Gate.Missing) != 2 {
			t.Fatalf("status %s, gate %+v: want gated on dev-h1 and dev-h2", er.Status, er.Gate)
		}
		if m := er.Gate.Missing; m[0].NotInInventory || !m[1].NotInInventory {
			t.Errorf("missing %+v: want only dev-h2 marked NotInInventory", m)
		}
	})
}
