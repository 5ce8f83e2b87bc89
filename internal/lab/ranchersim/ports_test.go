package ranchersim

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

func TestParsePort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    hostPort
		held    bool
		wantErr bool
	}{
		{"57372:80/tcp", hostPort{public: 57372, protocol: "tcp"}, true, false}, // as captured
		{"8080:80", hostPort{public: 8080, protocol: "tcp"}, true, false},
		{"10.0.0.1:53:53/udp", hostPort{ip: "10.0.0.1", public: 53, protocol: "udp"}, true, false},
		{"80/tcp", hostPort{}, false, false},
		{"0:80/tcp", hostPort{}, false, true},
		{"8080:80/sctp", hostPort{}, false, true},
		{"a:b:c:d", hostPort{}, false, true},
		{"nope:8080:80", hostPort{}, false, true},
	}
	for _, tc := range tests {
		got, held, err := parsePort(tc.in)
		if got != tc.want || held != tc.held || (err != nil) != tc.wantErr {
			t.Errorf("parsePort(%q) = %+v, %v, %v; want %+v, %v, err %v", tc.in, got, held, err, tc.want, tc.held, tc.wantErr)
		}
	}
}

// Under startFirst a service publishing a host port on every host cannot place its
// new containers: the old ones hold the port. Cattle answers with transitioning
// "error" and PortsConstraint's message, keeps the service upgrading and retries;
// the error clears once a host has the port free (here: a host is added).
func TestStartFirstHostPortConflict(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newPipeFixture(t, 2, WithRetryDelay(5*time.Second))
		for _, h := range f.hosts {
			h.images["app:2.0"] = true
		}
		svc := f.service("web", "app", "app:1.0", 2, WithPorts("8080:80/tcp"))
		if code, m := f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:2.0", 1, 100, true)); code != http.StatusAccepted {
			t.Fatalf("%d %v", code, m)
		}
		const msg = "Allocation failed: host needs ports 8080/tcp available"
		for _, at := range []time.Duration{time.Second, 6 * time.Second, 10 * time.Minute} {
			time.Sleep(at)
			synctest.Wait()
			res := f.get(svc)
			if res["state"] != "upgrading" || res["transitioning"] != "error" || res["transitioningMessage"] != msg {
				t.Fatalf("after %v: %v %v %q, want upgrading, error, %q", at, res["state"], res["transitioning"], res["transitioningMessage"], msg)
			}
		}
		if st := svc.Status(); st.Running != 2 || st.Containers != 2 {
			t.Errorf("old containers touched: %+v", st)
		}
		// Not final: a spare host frees the way, the retry places the containers.
		spare := newFakeEngine("h9", "app:2.0")
		f.p.AddHost("host9", "10.0.0.9", nil, spare)
		f.waitState(svc, "upgraded")
		if st := svc.Status(); st.Image != "app:2.0" || st.Running != 2 || st.TransitioningMessage != "" {
			t.Errorf("after the spare host: %+v", st)
		}
	})
}

// A spare eligible host, or stopping first, lets the upgrade through with no error.
func TestHostPortSpareHostOrStopFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		hosts      int
		startFirst bool
	}{
		{"startFirst with a spare host", 3, true},
		{"stop first", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f, _ := newPipeFixture(t, tc.hosts)
				for _, h := range f.hosts {
					h.images["app:2.0"] = true
				}
				svc := f.service("web", "app", "app:1.0", 2, WithPorts("8080:80/tcp"))
				if code, m := f.action(svc, "upgrade", upgradeBody(f.get(svc), "app:2.0", 1, 100, tc.startFirst)); code != http.StatusAccepted {
					t.Fatalf("%d %v", code, m)
				}
				sawError := false
				done := make(chan struct{})
				go func() {
					defer close(done)
					f.waitState(svc, "upgraded")
				}()
				for {
					select {
					case <-done:
					default:
						if svc.Status().Transitioning == "error" {
							sawError = true
						}
						time.Sleep(50 * time.Millisecond)
						continue
					}
					break
				}
				if sawError {
					t.Errorf("transitioning error on the way")
				}
				if st := svc.Status(); st.Image != "app:2.0" || st.Running != 2 {
					t.Errorf("%+v", st)
				}
			})
		})
	}
}

// Two services publishing the same host port share no host.
func TestHostPortAcrossServices(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	f.service("web", "a", "app:1.0", 1, WithPorts("8080:80/tcp"))
	f.service("web", "b", "app:1.0", 1, WithPorts("8080:80/tcp"))
	svc, err := f.p.AddService("web", "c", "app:1.0", 1, WithPorts("8080:80/tcp"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return svc.Status().Transitioning == "error" })
	if st := svc.Status(); st.State != "activating" || st.TransitioningMessage != "Allocation failed: host needs ports 8080/tcp available" {
		t.Errorf("%+v", st)
	}
	if _, err := f.p.AddService("web", "d", "app:1.0", 1, WithPorts("99999:80")); err == nil {
		t.Errorf("WithPorts accepted port 99999")
	}
}
