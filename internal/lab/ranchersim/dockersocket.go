package ranchersim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// DockerDialFunc opens one connection to a host's Docker Engine API, as the Rancher
// agent opens /var/run/docker.sock for each dockersocket websocket.
type DockerDialFunc func(ctx context.Context) (net.Conn, error)

// DialUnix returns a [DockerDialFunc] for a unix socket, such as
// "/var/run/docker.sock" (the machine's real dockerd).
func DialUnix(path string) DockerDialFunc {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
}

// DialTCP returns a [DockerDialFunc] for a TCP address "host:port", such as a
// simulated Docker host's Addr.
func DialTCP(addr string) DockerDialFunc {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// relayChunk is how much the agent reads from dockerd per websocket message
// (rancher/agent v1.6 service/hostapi/dockersocketproxy/proxy.go).
const relayChunk = 1024

// hostAccess is the state of the dockersocket action and its relay. Guarded by Server.mu.
type hostAccess struct {
	docker    map[*Host]DockerDialFunc
	tokens    map[string]accessToken
	down      map[*Host]bool
	roleKeys  []roleKey
	refuse    int   // status every dockersocket POST answers; 0: none
	dropAfter int64 // the next relay drops after this many bytes from dockerd; 0: none
	live      map[*websocket.Conn]*Host
}

type accessToken struct {
	host    *Host
	expires time.Time
}

type roleKey struct {
	keys Keys
	p    *Project
	role string
}

// Roles a key can have (Cattle's account roles). Those in modify.infrastructure.roles
// (iaas-api/defaults.properties) have the modifyInfra capability; the others do not.
var infraRoles = map[string]bool{"owner": true, "member": true, "project": true, "environment": true,
	"projectadmin": true, "restricted": false, "readonly": false}

// WithDockerSocketTokenTTL sets how long a token from the dockersocket action stays
// valid (each token opens one websocket). The default is 30s.
func WithDockerSocketTokenTTL(d time.Duration) Option {
	return positive("WithDockerSocketTokenTTL", d, func(o *options) { o.tokenTTL = d })
}

// WithDockerEndpoints sets how the simulated agent reaches the Docker endpoint of a
// host that has none set with [Host.SetDocker]: endpoint is called with the host's
// name and returns nil when the host has no endpoint (the relay then closes at once,
// as the agent does when it cannot dial the socket). There is none by default.
func WithDockerEndpoints(endpoint func(hostName string) DockerDialFunc) Option {
	return func(o *options) error {
		if endpoint == nil {
			return errors.New("WithDockerEndpoints: nil function")
		}
		o.dockerAt = endpoint
		return nil
	}
}

// SetDocker sets the Docker endpoint the host's agent relays dockersocket websockets
// to (nil removes it).
func (h *Host) SetDocker(dial DockerDialFunc) {
	s := h.p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ha.docker == nil {
		s.ha.docker = map[*Host]DockerDialFunc{}
	}
	s.ha.docker[h] = dial
}

// AddKeys adds another API key pair to the environment, with a Cattle role: owner,
// member, project, environment and projectadmin have the modifyInfra capability (the
// host action dockersocket); restricted and readonly do not, so their hosts show no
// actions and POSTing one answers 422 InvalidAction (the restricted-user schema drops
// host.resourceActions).
func (p *Project) AddKeys(keys Keys, role string) error {
	if keys.Access == "" || keys.Secret == "" {
		return errors.New("AddKeys: access and secret key required")
	}
	if _, ok := infraRoles[role]; !ok {
		return fmt.Errorf("AddKeys: unknown role %q (owner, member, project, environment, projectadmin, restricted, readonly)", role)
	}
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ha.roleKeys = append(s.ha.roleKeys, roleKey{keys: keys, p: p, role: role})
	return nil
}

// roleKeyLocked authenticates user and pass against the keys added with AddKeys.
// Called with s.mu held.
func (s *Server) roleKeyLocked(user, pass string) (principal, bool) {
	for _, k := range s.ha.roleKeys {
		if k.keys.Access == user && k.keys.Secret == pass {
			return principal{project: k.p, noInfra: !infraRoles[k.role]}, true
		}
	}
	return principal{}, false
}

// DisconnectAgent is a fault: the agent of the host named name (in any project)
// disconnects (down) or comes back. While it is away the host reports agentState
// "reconnecting", its live dockersocket websockets are closed, and new ones are
// accepted and closed at once, as Rancher's websocket proxy does when a host has no
// backend connected.
func (s *Server) DisconnectAgent(name string, down bool) error {
	s.mu.Lock()
	var h *Host
	for _, p := range s.projects {
		for _, x := range p.hosts {
			if x.name == name || x.id == name {
				h = x
			}
		}
	}
	if h == nil {
		s.mu.Unlock()
		return fmt.Errorf("disconnect agent of host %s: no such host", name)
	}
	if s.ha.down == nil {
		s.ha.down = map[*Host]bool{}
	}
	s.ha.down[h] = down
	if down {
		h.agentState = "reconnecting"
	} else {
		h.agentState = ""
	}
	s.touch(h)
	var drop []*websocket.Conn
	if down {
		for c, x := range s.ha.live {
			if x == h {
				drop = append(drop, c)
			}
		}
	}
	s.mu.Unlock()
	for _, c := range drop {
		_ = c.CloseNow()
	}
	return nil
}

// RefuseDockerSocket is a fault: every dockersocket action answers status (a 4xx or
// 5xx) until it is called with 0. 403 answers Cattle's Forbidden, 422
// ActionNotAvailable, others a Cattle error body with that status. A status outside
// 400-599 (other than 0) panics, since it is a programming error.
func (s *Server) RefuseDockerSocket(status int) {
	if status != 0 && (status < 400 || status > 599) {
		panic(fmt.Sprintf("ranchersim: RefuseDockerSocket(%d): want a 4xx or 5xx status, or 0", status))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ha.refuse = status
}

// DropRelayAfter is a fault: the next dockersocket websocket opened is cut abruptly
// (no close frame, dockerd's connection closed) once n bytes from dockerd have been
// relayed, as a dropped network link would. n must be positive.
func (s *Server) DropRelayAfter(n int64) {
	if n <= 0 {
		panic(fmt.Sprintf("ranchersim: DropRelayAfter(%d): want a positive byte count", n))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ha.dropAfter = n
}

// dockerSocketAction answers POST .../hosts/{id}/?action=dockersocket with a hostAccess:
// the websocket URL (the server's own, embedded host-api proxy mode) and a fresh
// token. Called with s.mu held, after the action was found in the host's actions.
func (s *Server) dockerSocketAction(w http.ResponseWriter, rc *rctx, h *Host) {
	switch f := s.ha.refuse; f {
	case 0:
	case http.StatusForbidden:
		writeErr(w, errForbidden())
		return
	case http.StatusUnprocessableEntity:
		writeErr(w, errActionNotAvailable())
		return
	default:
		writeErr(w, errStatus(f))
		return
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	if s.ha.tokens == nil {
		s.ha.tokens = map[string]accessToken{}
	}
	now := s.now()
	for t, a := range s.ha.tokens {
		if now.After(a.expires) {
			delete(s.ha.tokens, t)
		}
	}
	ttl := s.opts.tokenTTL
	if ttl == 0 {
		ttl = 30 * time.Second
	}
	s.ha.tokens[token] = accessToken{host: h, expires: now.Add(ttl)}
	ws := "ws" + strings.TrimPrefix(rc.root, "http")
	writeJSON(w, http.StatusOK, map[string]any{"type": "hostAccess", "baseType": "hostAccess",
		"links": map[string]any{}, "actions": map[string]any{},
		"url": ws + "/v1/dockersocket/", "token": token})
}

// dockerSocket serves the websocket at /v1/dockersocket/?token=T and relays it to the
// token's host like rancher/agent v1.6: every message is a TEXT frame holding the
// standard base64 of a chunk of the raw stream, dockerd is read at most 1024 bytes at a
// time, and when either side closes the other is closed. A bad, expired or used token
// is refused before the upgrade, as Rancher's websocket proxy does (401).
func (s *Server) dockerSocket(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	s.mu.Lock()
	a, ok := s.ha.tokens[token]
	delete(s.ha.tokens, token)
	if !ok || s.now().After(a.expires) || s.closed {
		s.mu.Unlock()
		http.Error(w, "Failed authentication", http.StatusUnauthorized)
		return
	}
	h := a.host
	down := s.ha.down[h]
	dial := s.ha.docker[h]
	if dial == nil && s.opts.dockerAt != nil {
		dial = s.opts.dockerAt(h.name)
	}
	drop := s.ha.dropAfter
	s.ha.dropAfter = 0
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	c.SetReadLimit(-1)
	if down || dial == nil {
		// No backend for the host (its agent is away), or the agent cannot dial dockerd.
		_ = c.Close(websocket.StatusNormalClosure, "")
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = c.CloseNow()
		return
	}
	if s.ha.live == nil {
		s.ha.live = map[*websocket.Conn]*Host{}
	}
	s.ha.live[c] = h
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.ha.live, c)
		s.mu.Unlock()
	}()
	docker, err := dial(s.ctx)
	if err != nil {
		s.opts.logger.Debug("dockersocket: dial docker", "host", h.id, "err", err)
		_ = c.Close(websocket.StatusNormalClosure, "")
		return
	}
	s.relay(c, docker, drop)
}

// relay copies between the websocket c and dockerd until either side ends.
// Both directions reuse their buffers: the simulator's CPU is not the
// agent's, and a benchmark of the relay should not measure its garbage.
func (s *Server) relay(c *websocket.Conn, docker net.Conn, drop int64) {
	ctx := s.ctx
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer docker.Close()
		var msg, data []byte
		for {
			_, r, err := c.Reader(ctx)
			if err != nil {
				return
			}
			if msg, err = readAll(r, msg[:0]); err != nil {
				return
			}
			data = growTo(data, base64.StdEncoding.DecodedLen(len(msg)))
			n, err := base64.StdEncoding.Decode(data, msg)
			if err != nil {
				s.opts.logger.Debug("dockersocket: decoding message", "err", err)
				return
			}
			if _, err := docker.Write(data[:n]); err != nil {
				return
			}
		}
	}()
	var sent int64
	buf := make([]byte, relayChunk)
	enc := make([]byte, base64.StdEncoding.EncodedLen(relayChunk))
	abrupt := false
	for {
		n, err := docker.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if drop > 0 && sent+int64(n) >= drop {
				chunk, abrupt = buf[:drop-sent], true
			}
			if len(chunk) > 0 {
				e := enc[:base64.StdEncoding.EncodedLen(len(chunk))]
				base64.StdEncoding.Encode(e, chunk)
				if c.Write(ctx, websocket.MessageText, e) != nil {
					break
				}
			}
			sent += int64(len(chunk))
		}
		if err != nil || abrupt {
			break
		}
	}
	_ = docker.Close()
	if abrupt {
		_ = c.CloseNow()
	} else {
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
	<-done
}

// readAll appends what r holds to b, reusing b's array.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// growTo returns b with length n, reusing its array when it is large enough.
func growTo(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// closeRelays ends every dockersocket websocket abruptly (server Close and Restart).
func (s *Server) closeRelays() {
	s.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(s.ha.live))
	for c := range s.ha.live {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.CloseNow()
	}
}
