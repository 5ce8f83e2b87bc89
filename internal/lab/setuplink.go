package lab

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
)

// setupLink is a host's transport to registries: unshaped until the lab
// arms it at the end of Start, then behind the host's link. Filling hosts
// with the services' image is setup, not traffic under test, so it should
// not take as long as the link makes a pull under test take.
type setupLink struct {
	armed  *atomic.Bool // shared by every host of the lab
	raw    *http.Transport
	shaped http.RoundTripper
}

func newSetupLink(armed *atomic.Bool, link netem.Link) *setupLink {
	raw := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	return &setupLink{armed: armed, raw: raw, shaped: netem.Transport(raw, link)}
}

func (s *setupLink) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.armed.Load() {
		return s.shaped.RoundTrip(r)
	}
	return s.raw.RoundTrip(r)
}

// close releases idle connections (a closer of the lab).
func (s *setupLink) close() error {
	s.raw.CloseIdleConnections()
	return nil
}
