package labtest_test

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, labtest.IgnoreLeaks()...)
}

// addrs is every address the lab listens on.
func addrs(l *lab.Lab) []string {
	var out []string
	for _, r := range l.Registries() {
		out = append(out, r.Addr())
	}
	for _, h := range l.Hosts() {
		out = append(out, strings.TrimPrefix(h.Endpoint, "tcp://"))
	}
	if l.Rancher != nil {
		out = append(out, strings.TrimPrefix(l.Rancher.URL(), "http://"))
	}
	return out
}

// TestCloseLeavesNothing starts a lab inside a subtest, so its Cleanup has
// run when the subtest returns: then no goroutine may remain and every
// port must be free again.
func TestCloseLeavesNothing(t *testing.T) {
	var ports []string
	t.Run("lab", func(t *testing.T) {
		l := labtest.New(t, lab.Config{Regions: 2, Envs: 2, HostsPerEnv: 2, ImageSize: 64 << 10})
		ports = addrs(l)
		if want := 1 + 2 + 4 + 1; len(ports) != want {
			t.Errorf("lab listens on %d addresses, want %d", len(ports), want)
		}
		for _, a := range ports {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+a+"/", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s not serving: %v", a, err)
			}
			resp.Body.Close()
		}
		http.DefaultClient.CloseIdleConnections()
	})
	for _, a := range ports {
		var lc net.ListenConfig
		ln, err := lc.Listen(t.Context(), "tcp", a)
		if err != nil {
			t.Errorf("port %s still held after Close: %v", a, err)
			continue
		}
		ln.Close()
	}
	goleak.VerifyNone(t, labtest.IgnoreLeaks()...)
}
