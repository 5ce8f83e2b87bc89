package ranchersim

import (
	"net/http"
	"time"
	"unicode/utf8"
)

// genericObject is Cattle's free-form shared record (schema base/genericObject.json):
// name, key and kind strings and a resourceData map, created, updated and removed by an
// environment key (project-auth.json: "genericObject": "crud"). Rancher uses it for
// webhook receivers; Drover uses it for its per-environment lease.
//
// Its processes have no handlers (spring-process-context.xml: genericobject.create
// requested -> activating -> active, genericobject.remove requested/active/activating ->
// removing -> removed), so an API create answers the object already "active" and a
// DELETE answers it already "removed". Lists hide removed objects at once
// (api.show.removed.for.seconds=-300); a GET by id still shows them, in state
// "removed"; a second DELETE is 405 (the remove process cannot start from "removed");
// a PUT on a removed object still writes resourceData (genericObject has no update
// process to refuse it), so a client must look at the state it gets back.
type genericObject struct {
	p       *Project
	id      string
	name    *string
	key     *string
	kind    string
	uuid    string
	created time.Time
	state   string
	removed *time.Time
	data    map[string]any
}

// genericObjectsKind lists the live generic objects of the scope; find also sees
// removed ones, as a GET by id does in Cattle.
var genericObjectsKind = &kind{resourceType: "genericObject", prefix: "1go",
	filters: fields("accountId:ref created:date description:string id:ref key:string kind:string name:string removeTime:date removed:date state:string uuid:string"),
	list: func(scope []*Project) []any {
		var out []any
		for _, p := range scope {
			for _, g := range p.generics {
				if g.removed == nil {
					out = append(out, g)
				}
			}
		}
		return out
	},
	get: func(scope []*Project, id string) any {
		for _, p := range scope {
			for _, g := range p.generics {
				if g.id == id {
					return g
				}
			}
		}
		return nil
	},
}

// genericObjectFieldMax is the column length of name, key and kind (varchar(255)).
const genericObjectFieldMax = 255

func (rc *rctx) genericObject(g *genericObject) map[string]any {
	self := rc.url(g.p, "genericobjects", g.id)
	data := any(nil)
	if g.data != nil {
		data = cloneMap(g.data)
	}
	return map[string]any{
		"id": g.id, "type": "genericObject", "baseType": "genericObject",
		"links": links(self, "account", "account"), "actions": map[string]any{},
		"name": optStr(g.name), "key": optStr(g.key), "kind": g.kind, "state": g.state,
		"accountId": g.p.id, "created": ts(g.created), "createdTS": g.created.UnixMilli(),
		"description": nil, "removed": tsPtr(g.removed), "removeTime": nil,
		"resourceData": data, "transitioning": "no", "transitioningMessage": nil,
		"transitioningProgress": nil, "uuid": g.uuid,
	}
}

// createGenericObject serves POST .../genericobjects.
func (s *Server) createGenericObject(w http.ResponseWriter, r *http.Request, rc *rctx, scope []*Project) {
	if len(scope) != 1 {
		// An account key at the account level: Cattle would create the object in the
		// admin's own account, which the simulator does not model.
		writeErr(w, errStatus(http.StatusMethodNotAllowed))
		return
	}
	body, aerr := readBody(r)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	g := &genericObject{p: scope[0], kind: "genericObject", uuid: newUUID(), state: "active"}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"name", &g.name}, {"key", &g.key}, {"kind", nil}} {
		v, ok := body[f.name]
		if !ok || v == nil {
			continue
		}
		sv, isStr := v.(string)
		if !isStr {
			writeErr(w, errField(http.StatusUnprocessableEntity, "InvalidType", f.name))
			return
		}
		if utf8.RuneCountInString(sv) > genericObjectFieldMax {
			writeErr(w, errField(http.StatusUnprocessableEntity, "MaxLengthExceeded", f.name))
			return
		}
		if f.dst == nil {
			g.kind = sv
		} else {
			*f.dst = &sv
		}
	}
	data, aerr := resourceData(body)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	g.data = data
	s.mu.Lock()
	defer s.mu.Unlock()
	g.id = s.nextID("1go")
	g.created = s.now()
	g.p.generics = append(g.p.generics, g)
	s.touch(g)
	writeJSON(w, http.StatusCreated, rc.genericObject(g))
}

// resourceData reads the optional resourceData field: an object or null.
func resourceData(body map[string]any) (map[string]any, *apiError) {
	v, ok := body["resourceData"]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errField(http.StatusUnprocessableEntity, "InvalidType", "resourceData")
	}
	return m, nil
}

// genericObjectResource serves GET, PUT and DELETE on one generic object.
func (s *Server) genericObjectResource(w http.ResponseWriter, r *http.Request, rc *rctx, g *genericObject) {
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		res := rc.genericObject(g)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, res)
	case http.MethodPut:
		body, aerr := readBody(r)
		if aerr != nil {
			writeErr(w, aerr)
			return
		}
		// Only resourceData is updatable (user-auth.json: "cru"; name, key and kind
		// are "cr"). Other fields are dropped without an error, as Cattle does.
		_, has := body["resourceData"]
		data, aerr := resourceData(body)
		if aerr != nil {
			writeErr(w, aerr)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if has {
			g.data = data
			s.touch(g)
		}
		writeJSON(w, http.StatusOK, rc.genericObject(g))
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		if g.removed != nil {
			writeErr(w, errStatus(http.StatusMethodNotAllowed))
			return
		}
		now := s.now()
		g.state, g.removed = "removed", &now
		s.touch(g)
		writeJSON(w, http.StatusOK, rc.genericObject(g))
	default:
		writeErr(w, errStatus(http.StatusMethodNotAllowed))
	}
}

// GenericObject is a snapshot of a generic object, for tests and the lab.
type GenericObject struct {
	ID, Name, Key, Kind, State string
	ResourceData               map[string]any
}

// GenericObjects returns the project's generic objects that are not removed, in id
// order.
func (p *Project) GenericObjects() []GenericObject {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []GenericObject
	for _, g := range p.generics {
		if g.removed != nil {
			continue
		}
		o := GenericObject{ID: g.id, Kind: g.kind, State: g.state, ResourceData: cloneMap(g.data)}
		if g.name != nil {
			o.Name = *g.name
		}
		if g.key != nil {
			o.Key = *g.key
		}
		out = append(out, o)
	}
	return out
}
