package ranchersim

import (
	"io"
	"net/http"
	"slices"
	"strings"
)

// principal is who a request authenticated as: an environment key (bound to one
// project) or an account key (every project).
type principal struct {
	project *Project
	account bool
	noInfra bool // the key's role lacks modifyInfra
}

func (s *Server) authenticate(r *http.Request) (principal, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return principal{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.opts.accountKeys {
		if k.Access == user && k.Secret == pass {
			return principal{account: true}, true
		}
	}
	for _, p := range s.projects {
		if p.keys.Access == user && p.keys.Secret == pass {
			return principal{project: p}, true
		}
	}
	return s.roleKeyLocked(user, pass)
}

func (pr principal) reaches(p *Project) bool { return pr.account || pr.project == p }

// ServeHTTP serves the API. It is the server's handler; tests may also mount it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.failN > 0 {
		s.failN--
		st := s.failStatus
		s.mu.Unlock()
		writeErr(w, errStatus(st))
		return
	}
	s.mu.Unlock()
	w.Header().Set("X-Rancher-Version", "v1.6.30")
	segs := splitPath(r.URL.Path)
	if len(segs) == 0 {
		s.root(w, r)
		return
	}
	if len(segs) == 2 && segs[0] == "v1" && segs[1] == "dockersocket" {
		s.dockerSocket(w, r)
		return
	}
	if segs[0] != "v2-beta" && segs[0] != "v1" {
		writeErr(w, errNotFound())
		return
	}
	rc := &rctx{root: "http://" + r.Host, ver: segs[0]}
	w.Header().Set("X-API-Schemas", rc.base()+"/schemas")
	pr, ok := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="Enter API access key and secret"`)
		writeErr(w, &apiError{status: http.StatusUnauthorized, code: "Unauthorized", message: strPtr("Unauthorized")})
		return
	}
	rc.noInfra = pr.noInfra
	rest := segs[1:]
	if len(rest) > 0 && rest[0] == "projects" {
		if len(rest) == 1 {
			s.mu.Lock()
			var ps []any
			for _, p := range s.projects {
				if pr.reaches(p) {
					ps = append(ps, p)
				}
			}
			s.mu.Unlock()
			s.collection(w, r, rc, kinds["projects"], ps, rc.base()+"/projects")
			return
		}
		p := s.project(rest[1])
		switch {
		case p == nil && len(rest) == 2:
			// GET /projects/{id}: a resource read, 404 like any unknown id.
			writeErr(w, errNotFound())
			return
		case p == nil, !pr.reaches(p):
			// /projects/{id}/...: the id names the account the request acts as
			// (ApiRequestParser); one that does not exist or that the key cannot
			// reach is 403 (ApiAuthenticator.getAccountRequested).
			writeErr(w, errForbidden())
			return
		}
		w.Header().Set("X-API-Schemas", rc.projURL(p)+"/schemas")
		s.scoped(w, r, rc, []*Project{p}, rc.projURL(p), rest[2:])
		return
	}
	if len(rest) == 0 {
		s.apiVersion(w, rc)
		return
	}
	var scope []*Project
	self := rc.base()
	if pr.project != nil {
		scope = []*Project{pr.project}
	} else {
		s.mu.Lock()
		scope = append(scope, s.projects...)
		s.mu.Unlock()
	}
	s.scoped(w, r, rc, scope, self, rest)
}

func (s *Server) project(id string) *Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.projects {
		if p.id == id {
			return p
		}
	}
	return nil
}

func splitPath(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if seg != "" {
			out = append(out, seg)
		}
	}
	return out
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	root := "http://" + r.Host
	var data []any
	for _, v := range []string{"v1", "v2-beta"} {
		data = append(data, map[string]any{"id": v, "type": "apiVersion",
			"links": map[string]any{"self": root + "/" + v}, "actions": map[string]any{}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "collection", "resourceType": "apiVersion",
		"links": map[string]any{"self": root + "/"}, "createTypes": map[string]any{}, "actions": map[string]any{},
		"data": data})
}

func (s *Server) apiVersion(w http.ResponseWriter, rc *rctx) {
	base := rc.base()
	lk := map[string]any{"self": base, "schemas": base + "/schemas", "projects": base + "/projects",
		"subscribe": base + "/subscribe"}
	for _, k := range []string{"stacks", "services", "hosts", "instances", "containers"} {
		lk[k] = base + "/" + k
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": rc.ver, "type": "apiVersion", "links": lk,
		"actions": map[string]any{}})
}

// scoped serves the paths below a project (or the account level): the project itself,
// schemas, subscribe, collections, resources, their actions and links.
func (s *Server) scoped(w http.ResponseWriter, r *http.Request, rc *rctx, scope []*Project, self string, rest []string) {
	if len(rest) == 0 {
		if r.Method != http.MethodGet {
			writeErr(w, errStatus(http.StatusMethodNotAllowed))
			return
		}
		s.mu.Lock()
		res := rc.project(scope[0])
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, res)
		return
	}
	switch rest[0] {
	case "schemas":
		s.schemas(w, r, rc, self, rest[1:])
		return
	case "subscribe":
		s.subscribe(w, r, rc, scope)
		return
	}
	name := rest[0]
	if rc.ver == "v1" && name == "environments" {
		name = "stacks"
	}
	k, ok := kinds[name]
	if !ok || name == "projects" {
		writeErr(w, errNotFound())
		return
	}
	if len(rest) == 1 {
		if r.Method == http.MethodPost && k == genericObjectsKind {
			s.createGenericObject(w, r, rc, scope)
			return
		}
		if r.Method != http.MethodGet {
			writeErr(w, errStatus(http.StatusMethodNotAllowed))
			return
		}
		s.mu.Lock()
		items := k.list(scope)
		s.mu.Unlock()
		s.collection(w, r, rc, k, items, self+"/"+rest[0])
		return
	}
	s.mu.Lock()
	obj := k.find(scope, rest[1])
	s.mu.Unlock()
	if obj == nil {
		writeErr(w, errNotFound())
		return
	}
	if len(rest) == 3 {
		s.link(w, r, rc, obj, rest[2], self+"/"+rest[0]+"/"+rest[1]+"/"+rest[2])
		return
	}
	if len(rest) > 3 {
		writeErr(w, errNotFound())
		return
	}
	s.resource(w, r, rc, obj)
}

func (s *Server) resource(w http.ResponseWriter, r *http.Request, rc *rctx, obj any) {
	if g, ok := obj.(*genericObject); ok {
		s.genericObjectResource(w, r, rc, g)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		res := rc.render(obj)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, res)
	case http.MethodPost:
		action := r.URL.Query().Get("action")
		if action == "" {
			writeErr(w, errStatus(http.StatusMethodNotAllowed))
			return
		}
		body, aerr := readBody(r)
		if aerr != nil {
			writeErr(w, aerr)
			return
		}
		switch x := obj.(type) {
		case *Service:
			s.serviceAction(w, rc, x, action, body)
		case *Host:
			s.hostAction(w, rc, x, action)
		default:
			writeErr(w, errInvalidAction())
		}
	case http.MethodPut:
		svc, ok := obj.(*Service)
		if !ok {
			writeErr(w, errStatus(http.StatusMethodNotAllowed))
			return
		}
		body, aerr := readBody(r)
		if aerr != nil {
			writeErr(w, aerr)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if svc.state != "active" && svc.state != "inactive" {
			writeErr(w, errConflict())
			return
		}
		if aerr := s.updateLocked(svc, body); aerr != nil {
			writeErr(w, aerr)
			return
		}
		writeJSON(w, http.StatusOK, rc.service(svc))
	case http.MethodDelete:
		svc, ok := obj.(*Service)
		if !ok {
			writeErr(w, errStatus(http.StatusMethodNotAllowed))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !svc.allows("remove") {
			writeErr(w, errActionNotAvailable())
			return
		}
		s.startProcess(svc, "removing", s.runStopAll(svc, true, "removed"))
		writeJSON(w, http.StatusOK, rc.service(svc))
	default:
		writeErr(w, errStatus(http.StatusMethodNotAllowed))
	}
}

// readBody parses a request body as JSON whatever the Content-Type; empty means {}.
func readBody(r *http.Request) (map[string]any, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return nil, errBadBody()
	}
	body := map[string]any{}
	if len(strings.TrimSpace(string(b))) == 0 {
		return body, nil
	}
	var v any
	if err := decodeJSON(b, &v); err != nil {
		return nil, errBadBody()
	}
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case nil:
		return body, nil
	}
	return nil, errBadBody()
}

func (s *Server) hostAction(w http.ResponseWriter, rc *rctx, h *Host, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := rc.host(h)
	acts, _ := res["actions"].(map[string]any)
	if _, ok := acts[action]; !ok {
		if !rc.noInfra && slices.Contains([]string{"activate", "deactivate", "update", "remove", "evacuate", "dockersocket", "purge", "restore", "provision", "error", "create"}, action) {
			writeErr(w, errActionNotAvailable())
		} else {
			writeErr(w, errInvalidAction())
		}
		return
	}
	switch action {
	case "dockersocket":
		s.dockerSocketAction(w, rc, h)
		return
	case "activate":
		h.state = "active"
	case "deactivate":
		h.state = "inactive"
	}
	s.touch(h)
	writeJSON(w, http.StatusAccepted, rc.host(h))
}

// link serves a resource's links (instances, services, stack, account, ...).
func (s *Server) link(w http.ResponseWriter, r *http.Request, rc *rctx, obj any, name, self string) {
	if r.Method != http.MethodGet {
		writeErr(w, errStatus(http.StatusMethodNotAllowed))
		return
	}
	s.mu.Lock()
	var items []any
	var k *kind
	var single any
	switch x := obj.(type) {
	case *Service:
		switch name {
		case "instances":
			k, items = kinds["instances"], containersOf(x.containers())
		case "stack":
			single = x.stack
		case "account":
			single = x.p
		}
	case *Stack:
		switch name {
		case "services":
			k = kinds["services"]
			for _, svc := range x.p.services {
				if svc.stack == x {
					items = append(items, svc)
				}
			}
		case "instances":
			k = kinds["instances"]
			for _, c := range x.p.containers {
				if c.svc.stack == x && c.removed == nil {
					items = append(items, c)
				}
			}
		case "account":
			single = x.p
		}
	case *Host:
		switch name {
		case "instances":
			k = kinds["instances"]
			for _, c := range x.p.containers {
				if c.host == x && c.removed == nil {
					items = append(items, c)
				}
			}
		case "account":
			single = x.p
		}
	case *container:
		switch name {
		case "services":
			k, items = kinds["services"], []any{x.svc}
		case "hosts":
			k = kinds["hosts"]
			if x.host != nil {
				items = []any{x.host}
			}
		case "account":
			single = x.p
		}
	}
	var res map[string]any
	if single != nil {
		res = rc.render(single)
	}
	s.mu.Unlock()
	switch {
	case res != nil:
		writeJSON(w, http.StatusOK, res)
	case k != nil:
		s.collection(w, r, rc, k, items, self)
	default:
		// A link the simulator does not model: an empty collection.
		s.collection(w, r, rc, &kind{resourceType: name}, nil, self)
	}
}

func containersOf(cs []*container) []any {
	out := make([]any, 0, len(cs))
	for _, c := range cs {
		out = append(out, c)
	}
	return out
}
