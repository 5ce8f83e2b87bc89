package lab

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Fault is one injected fault, as `lab up --fault` spells it:
//
//	registry=NAME:ACTION[@N]  NAME is source or a region; ACTION is an HTTP
//	                          status (500, 503, 429...), 5xx (= 500),
//	                          reset (cut the Nth blob download mid-body),
//	                          down or hang; @N picks the Nth request from
//	                          now (default 1)
//	host=NAME:ACTION          ACTION is down, hang or fail-pull (every pull
//	                          fails mid-stream)
//	rancher:ACTION            ACTION is STATUS[@N] (the next N API requests
//	                          answer STATUS, a 5xx), action=STATUS (the
//	                          next action answers STATUS, a 4xx or 5xx:
//	                          422 ActionNotAvailable, 409 Conflict, ...),
//	                          never-healthy=GLOB (new containers of the
//	                          services whose stack/service path or name
//	                          matches never become healthy),
//	                          never-healthy-image=GLOB (the same for new
//	                          containers whose image reference matches),
//	                          restart (stop and serve again on the same
//	                          port, state kept), drop-ws (close every
//	                          subscribe websocket), dockersocket=STATUS
//	                          (every dockersocket host action answers
//	                          STATUS, 403 Forbidden or 422
//	                          ActionNotAvailable as Cattle does; 0 clears),
//	                          agent-down=HOST (the host's agent
//	                          disconnects: it reports reconnecting and
//	                          its dockersocket websockets close at once),
//	                          agent-up=HOST (it comes back) or
//	                          relay-drop=BYTES (the next dockersocket
//	                          websocket is cut after BYTES from dockerd)
type Fault struct {
	Target string // registry, host or rancher
	Name   string // registry or host name; "" for rancher
	Action string // status, reset, down, hang, fail-pull, action, never-healthy, never-healthy-image, restart, drop-ws, dockersocket, agent-down, agent-up, relay-drop
	Status int
	N      int
	Arg    string // never-healthy glob (service or image); agent-down/agent-up host
	Bytes  int64  // relay-drop
}

// ParseFault reads one --fault value.
func ParseFault(s string) (Fault, error) {
	bad := func(why string) (Fault, error) { return Fault{}, fmt.Errorf("fault %q: %s", s, why) }
	var f Fault
	var rest string
	switch {
	case strings.HasPrefix(s, "rancher:"):
		f.Target, rest = "rancher", strings.TrimPrefix(s, "rancher:")
	case strings.HasPrefix(s, "registry="), strings.HasPrefix(s, "host="):
		target, after, _ := strings.Cut(s, "=")
		name, action, ok := strings.Cut(after, ":")
		if !ok || name == "" {
			return bad("want " + target + "=NAME:ACTION")
		}
		f.Target, f.Name, rest = target, name, action
	default:
		return bad("want registry=NAME:ACTION, host=NAME:ACTION or rancher:ACTION")
	}
	f.N = 1
	if k, v, ok := strings.Cut(rest, "="); ok && f.Target == "rancher" {
		// A glob may hold '@' (digest references), so @N is not split off here.
		switch k {
		case "action":
			st, err := parseStatus(v)
			if err != nil {
				return bad(err.Error() + " (action= fails one action; @N does not apply)")
			}
			f.Action, f.Status = "action", st
		case "never-healthy":
			if v == "" {
				return bad("never-healthy needs a service glob, e.g. web/svc01 or web/*")
			}
			f.Action, f.Arg = "never-healthy", v
		case "never-healthy-image":
			if v == "" {
				return bad("never-healthy-image needs an image glob, e.g. */app:1.2")
			}
			f.Action, f.Arg = "never-healthy-image", v
		case "dockersocket":
			st := 0
			if v != "0" {
				var err error
				if st, err = parseStatus(v); err != nil {
					return bad(err.Error() + " (dockersocket=403 or 422; 0 clears)")
				}
			}
			f.Action, f.Status = "dockersocket", st
		case "agent-down", "agent-up":
			if v == "" {
				return bad(k + " needs a host name, e.g. " + k + "=dmz-eu-01")
			}
			f.Action, f.Arg = k, v
		case "relay-drop":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return bad("relay-drop needs a positive byte count, e.g. relay-drop=4096")
			}
			f.Action, f.Bytes = "relay-drop", n
		default:
			return bad("unknown rancher fault " + k)
		}
		return f, nil
	}
	action, nth, hasN := strings.Cut(rest, "@")
	if hasN {
		n, err := strconv.Atoi(nth)
		if err != nil || n < 1 {
			return bad("@N must be a positive number")
		}
		f.N = n
	}
	switch action {
	case "restart", "drop-ws":
		if f.Target != "rancher" {
			return bad(action + " applies to rancher")
		}
		f.Action = action
	case "reset", "down", "hang":
		if f.Target == "rancher" || (f.Target == "host" && action == "reset") {
			return bad(action + " does not apply to " + f.Target)
		}
		f.Action = action
	case "fail-pull":
		if f.Target != "host" {
			return bad("fail-pull applies to hosts")
		}
		f.Action = action
	default:
		st, err := parseStatus(action)
		if err != nil || f.Target == "host" {
			return bad("unknown action " + strconv.Quote(action))
		}
		f.Action, f.Status = "status", st
	}
	if hasN && f.Target == "host" {
		return bad("@N does not apply to hosts")
	}
	return f, nil
}

func parseStatus(s string) (int, error) {
	if s == "5xx" {
		return http.StatusInternalServerError, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 400 || n > 599 {
		return 0, fmt.Errorf("status %q: want 400-599 or 5xx", s)
	}
	return n, nil
}

// Inject turns f on in the running lab.
func (l *Lab) Inject(f Fault) error {
	switch f.Target {
	case "registry":
		r := l.Source
		if f.Name != "source" {
			r = l.Region(f.Name)
		}
		if r == nil {
			return fmt.Errorf("fault: no registry %q (source or one of %v)", f.Name, l.regionNames)
		}
		fs := r.Faults()
		switch f.Action {
		case "status":
			fs.FailNth(f.N, f.Status)
		case "reset":
			fs.ResetMidBody(f.N)
		case "down":
			fs.Down(true)
		case "hang":
			fs.Hang(true)
		}
		return nil
	case "host":
		h := l.DockerHost(f.Name)
		if h == nil {
			return fmt.Errorf("fault: no host %q", f.Name)
		}
		switch f.Action {
		case "down":
			h.SetDown(true)
		case "hang":
			h.SetHang(true)
		case "fail-pull":
			h.FailPullMidStream(true)
		}
		return nil
	case "rancher":
		if l.Rancher == nil {
			return errors.New("fault: no Rancher simulator")
		}
		switch f.Action {
		case "status":
			l.Rancher.FailRequests(f.N, f.Status)
		case "action":
			l.Rancher.FailNextAction(f.Status)
		case "never-healthy":
			l.Rancher.SetNeverHealthyServices(f.Arg)
		case "never-healthy-image":
			l.Rancher.SetNeverHealthy(f.Arg)
		case "restart":
			return l.Rancher.Restart()
		case "drop-ws":
			l.Rancher.DropWebsockets()
		case "dockersocket":
			l.Rancher.RefuseDockerSocket(f.Status)
		case "agent-down", "agent-up":
			return l.Rancher.DisconnectAgent(f.Arg, f.Action == "agent-down")
		case "relay-drop":
			l.Rancher.DropRelayAfter(f.Bytes)
		}
		return nil
	}
	return fmt.Errorf("fault: unknown target %q", f.Target)
}
