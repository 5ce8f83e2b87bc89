package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
	"github.com/drover-dev/drover/rancher/dockersocket"
	"github.com/moby/moby/client"
)

// ViaRancher is how a Target without a Docker endpoint (docker: rancher in
// the inventory) is reached: each Docker API connection is a websocket
// opened through the host's dockersocket action in Rancher (see package
// rancher/dockersocket). The token each connection gets never appears in an
// error, a log record or a report.
type ViaRancher struct {
	// Dial opens one Docker API connection through Rancher
	// (*dockersocket.Dialer's DialContext).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Keys names where the environment's API keys come from ("$DMZ_ACCESS_KEY"),
	// for the error a key without modifyInfra gets.
	Keys string
	// Disk is the host's free space as its agent last reported it, or nil.
	Disk *DiskSpace
}

// RancherDockerDialer is the part of *rancher.Client that reaching hosts
// through Rancher needs.
type RancherDockerDialer interface {
	DockerDialer(h *rancher.Host) *dockersocket.Dialer
}

// viaRancherEndpoint is the moby client's host for a Target reached through
// Rancher: the dialer ignores it (Rancher picks the host by its action), but
// HTTP needs a well-formed one.
const viaRancherEndpoint = "tcp://docker.via-rancher:2375"

// dialViaRancher is Dial for a Target reached through Rancher. Once Rancher
// refuses (Refused), the engine's later connections fail with that error
// without asking again: the moby client makes up to three connections for
// one call (its version negotiation's pings, then the call), and a refusal
// does not change within one engine's use.
func dialViaRancher(host Target) (Engine, error) {
	via := host.Rancher
	var mu sync.Mutex
	var refusal error
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		stop := refusal
		mu.Unlock()
		if stop != nil {
			return nil, stop
		}
		c, err := via.Dial(ctx, network, addr)
		if err != nil {
			err = viaRancherError(host, via.Keys, err)
			if Refused(err) {
				mu.Lock()
				refusal = err
				mu.Unlock()
			}
			return nil, err
		}
		return &viaConn{Conn: c, host: host, keys: via.Keys}, nil
	}
	c, err := client.New(client.WithHost(viaRancherEndpoint), client.WithDialContext(dial))
	if err != nil {
		return nil, fmt.Errorf("docker on %s through Rancher: %w", host.Name, err)
	}
	return c, nil
}

// viaConn names the host and its environment in the errors a connection's
// Read finds about the host itself and the relay: an agent that went away
// after the host was listed shows only once Rancher closes the websocket.
type viaConn struct {
	net.Conn
	host Target
	keys string
}

func (c *viaConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	return n, c.named(err)
}

func (c *viaConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	return n, c.named(err)
}

func (c *viaConn) named(err error) error {
	if err != nil && (errors.Is(err, dockersocket.ErrHostNotActive) || errors.Is(err, dockersocket.ErrActionMissing) ||
		errors.Is(err, dockersocket.ErrRelayClosed)) {
		return viaRancherError(c.host, c.keys, err)
	}
	return err
}

// Refused reports whether err is Rancher refusing a host's Docker API in a
// way no retry or wait changes: the key's role (the dockersocket action,
// dockersocket.ErrActionMissing), the relay's token (ErrTokenRefused), or
// a ws:// relay URL from an https server (ErrInsecureURL). A dropped relay
// (ErrRelayClosed) and an agent that is away (ErrHostNotActive) are not.
func Refused(err error) bool {
	return errors.Is(err, dockersocket.ErrActionMissing) || errors.Is(err, dockersocket.ErrTokenRefused) ||
		errors.Is(err, dockersocket.ErrInsecureURL)
}

// relayError is a failure to reach a host through Rancher, named with the
// host, its environment and, for a refusal, what to change: the variables
// of the key (a refused action), or the Rancher server (a refused token, a
// ws:// URL). It stands in for the moby client's error around it, which
// quotes the made-up address of viaRancherEndpoint (see callErr).
type relayError struct {
	host, env string
	keys      string // the key's variables, for a refused action
	err       error
}

// Advice for the refusals not about the key (see relayError).
const (
	tokenAdvice = "the Rancher server issued the token and its relay refused it: check that a proxy in front of Rancher " +
		"passes websockets to it unchanged, and that the clocks of the Rancher server and its hosts agree"
	insecureAdvice = "Rancher builds this URL from the address it believes it is served at: set its api.host setting " +
		"to the https:// URL, or have the proxy in front of it send X-Forwarded-Proto: https"
)

func (e *relayError) Error() string {
	where := fmt.Sprintf("host %s (environment %s) through Rancher", e.host, e.env)
	switch {
	case e.keys != "":
		return fmt.Sprintf("%s: %v; set %s to such a key", where, e.err, e.keys)
	case errors.Is(e.err, dockersocket.ErrTokenRefused):
		return fmt.Sprintf("%s: %v; %s", where, e.err, tokenAdvice)
	case errors.Is(e.err, dockersocket.ErrInsecureURL):
		return fmt.Sprintf("%s: %v; %s", where, e.err, insecureAdvice)
	}
	return where + ": " + e.err.Error()
}

func (e *relayError) Unwrap() error { return e.err }

// relayNamed is err, from a Docker API call, as the relay's own error when
// it is one (host and environment named) instead of the moby client's
// around it, which quotes viaRancherEndpoint's made-up address; any other
// err unchanged. callErr does the same for pull and status.
func relayNamed(err error) error {
	if re := (*relayError)(nil); errors.As(err, &re) {
		return re
	}
	return err
}

// viaRancherError names the host, its environment and, for a refused
// action, the key's variables (the error says which role it needs).
func viaRancherError(host Target, keys string, err error) error {
	re := &relayError{host: host.Name, env: host.Env, err: err}
	if errors.Is(err, dockersocket.ErrActionMissing) {
		re.keys = cmp.Or(keys, "the environment's Rancher API key")
	}
	return re
}

// keyVars names the variables environment e's Rancher keys come from, as
// rancher.Resolve reads them.
func keyVars(e *inventory.Environment) string {
	if c := e.Credentials; c != nil {
		return "$" + c.AccessKeyEnv + " / $" + c.SecretKeyEnv
	}
	return "$RANCHER_ACCESS_KEY / $RANCHER_SECRET_KEY"
}

// viaRancherHosts matches environment e's hosts to Rancher's hosts rhs
// into found. With discover: {docker: rancher} every Rancher host of the
// fleet is one (fleetHosts), those not active marked so; a listed host
// with docker: rancher is matched by name, then by hostname (missing or
// ambiguous: an error naming it), and marked too when not active.
func viaRancherHosts(e *inventory.Environment, c RancherHosts, rhs []rancher.Host, found *envHosts) error {
	dd, ok := c.(RancherDockerDialer)
	if !ok {
		return errors.New("this Rancher client cannot reach hosts through Rancher")
	}
	keys := keyVars(e)
	via := func(h *rancher.Host) *ViaRancher {
		return &ViaRancher{Dial: dd.DockerDialer(h).DialContext, Keys: keys, Disk: rancherDisk(h)}
	}
	if e.Discover.ViaRancher() {
		return fleetHosts(rhs, e.Name, func(h *rancher.Host, name string, na *NotActiveError) error {
			found.hosts = append(found.hosts, inventory.Host{Name: name, Docker: inventory.ViaRancher, Labels: h.Labels})
			found.vias[name] = via(h)
			if na != nil {
				found.notActive[name] = na
			}
			return nil
		})
	}
	var errs []error
	for _, ih := range e.Hosts {
		if !ih.ViaRancher() {
			continue
		}
		h, err := matchRancherHost(ih.Name, rhs)
		if err != nil {
			errs = append(errs, fmt.Errorf("host %s (docker: rancher): %w", ih.Name, err))
			continue
		}
		found.vias[ih.Name] = via(h)
		if na := notActive(h, ih.Name, e.Name); na != nil {
			found.notActive[ih.Name] = na
		}
	}
	found.hosts = e.Hosts
	return errors.Join(errs...)
}

// matchRancherHost is the Rancher host called name: by name, else by
// hostname; removed hosts are not listed, and those being removed or
// purged are not matched.
func matchRancherHost(name string, rhs []rancher.Host) (*rancher.Host, error) {
	for _, byName := range []bool{true, false} {
		var found []*rancher.Host
		for i := range rhs {
			h := &rhs[i]
			if gone(h) {
				continue
			}
			if (byName && h.Name == name) || (!byName && h.Hostname == name) {
				found = append(found, h)
			}
		}
		field := "hostname"
		if byName {
			field = "name"
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			ids := make([]string, len(found))
			for i, h := range found {
				ids[i] = h.ID
			}
			return nil, fmt.Errorf("%d Rancher hosts have the %s %q (%v): rename one", len(found), field, name, ids)
		}
	}
	return nil, fmt.Errorf("no Rancher host has the name or hostname %q", name)
}

// fleetHosts calls f for each host of rhs that is part of the fleet, with
// its name (its hostname, else its Rancher name) and, for a host Rancher
// does not report active, why (notActive; such a host is a target that is
// not reached, see NotActiveError). Hosts Rancher removed are not part of
// the fleet. Each name is one host: a second active host of a name is an
// error naming both (sameName), and f does not see it; a host that is not
// active is left to the active host of its name (a reinstalled machine
// leaves its old record behind, disconnected), and only the first of
// several such records of a name is seen. The error joins those and f's,
// in host order.
func fleetHosts(rhs []rancher.Host, env string, f func(h *rancher.Host, name string, notActive *NotActiveError) error) error {
	nameOf := func(h *rancher.Host) string {
		if h.Hostname != "" {
			return h.Hostname
		}
		return h.Name
	}
	activeName := map[string]bool{}
	for i := range rhs {
		if rhs[i].Active() {
			activeName[nameOf(&rhs[i])] = true
		}
	}
	ids := map[string]string{} // name -> the Rancher host id that took it
	var errs []error
	for i := range rhs {
		h := &rhs[i]
		if gone(h) {
			continue
		}
		name := nameOf(h)
		na := notActive(h, name, env)
		if na != nil && activeName[name] {
			continue
		}
		if other, dup := ids[name]; dup {
			if na == nil {
				errs = append(errs, sameName(other, h.ID, name))
			}
			continue
		}
		ids[name] = h.ID
		if err := f(h, name, na); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sameName is the error for two active Rancher hosts of one name: as two
// targets of one name, one would be reached twice and the other never.
func sameName(id1, id2, name string) error {
	return fmt.Errorf("two active Rancher hosts, %s and %s, are both named %q: rename one (hostname or Rancher name) so each host is checked", id1, id2, name)
}
