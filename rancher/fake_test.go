package rancher

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// fake is a small Rancher API for unit tests: raw JSON objects (so unknown
// fields survive), a simplified service state machine, pagination, error
// injection and the subscribe websocket. Its links and action URLs are on a
// foreign host ("rancher.internal:8080") to check that the client re-roots
// them onto its base URL.
type fake struct {
	t        *testing.T
	srv      *httptest.Server
	access   string
	secret   string
	pageSize int

	mu          sync.Mutex
	objs        map[string]map[string]json.RawMessage // by id
	order       []string
	reqs        []string // "METHOD path?query"
	badAuth     int
	actions     map[string][]json.RawMessage // action bodies by "id action"
	failNext    []int                        // statuses to answer the next requests with (HTML bodies)
	subs        map[*fakeSub]struct{}
	conns       int // websocket connections accepted
	refuseWS    bool
	serviceGets map[string]int
}

type fakeSub struct {
	ch   chan []byte
	kill chan struct{}
}

const foreign = "http://rancher.internal:8080"

func newFake(t *testing.T) *fake { return newFakeTLS(t, false) }

// newFakeTLS serves over TLS (httptest's self-signed certificate) when tls.
func newFakeTLS(t *testing.T, tls bool) *fake {
	f := &fake{t: t, access: "AK", secret: "SK-secret-value", pageSize: 100,
		objs: map[string]map[string]json.RawMessage{}, actions: map[string][]json.RawMessage{},
		subs: map[*fakeSub]struct{}{}, serviceGets: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2-beta", f.root)
	mux.HandleFunc("GET /v2-beta/projects", f.listHandler("project", ""))
	mux.HandleFunc("GET /v2-beta/projects/{id}", f.get)
	mux.HandleFunc("GET /v2-beta/projects/{p}/stacks", f.listHandler("stack", "p"))
	mux.HandleFunc("GET /v2-beta/projects/{p}/services", f.listHandler("service", "p"))
	mux.HandleFunc("GET /v2-beta/projects/{p}/hosts", f.listHandler("host", "p"))
	mux.HandleFunc("GET /v2-beta/projects/{p}/services/{id}", f.get)
	mux.HandleFunc("GET /linked/instances/{sid}", f.instances)
	mux.HandleFunc("POST /v2-beta/projects/{p}/services/{id}/{$}", f.action)
	mux.HandleFunc("GET /v2-beta/projects/{p}/subscribe", f.subscribe)
	f.srv = httptest.NewUnstartedServer(f.auth(mux))
	if tls {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.close)
	return f
}

func (f *fake) close() {
	f.mu.Lock()
	for s := range f.subs {
		close(s.kill)
		delete(f.subs, s)
	}
	f.mu.Unlock()
	f.srv.Close()
}

func (f *fake) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := New(f.srv.URL+"/v2-beta/projects/1a5/schemas", f.access, f.secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fake) auth(next http.Handler) http.Handler {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(f.access+":"+f.secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Method+" "+r.URL.RequestURI())
		if r.Header.Get("Authorization") != want {
			f.badAuth++
			f.mu.Unlock()
			f.writeJSON(w, 401, map[string]any{"type": "error", "status": 401, "code": "Unauthorized", "message": "Unauthorized"})
			return
		}
		if len(f.failNext) > 0 && r.Header.Get("Upgrade") == "" {
			st := f.failNext[0]
			f.failNext = f.failNext[1:]
			f.mu.Unlock()
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(st)
			fmt.Fprintf(w, "<html><body><h1>%d Bad Gateway</h1>\n<p>nginx</p></body></html>", st)
			return
		}
		f.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (f *fake) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Errorf("encode: %v", err)
	}
}

func (f *fake) root(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-API-Schemas", f.srv.URL+"/v2-beta/schemas")
	f.writeJSON(w, 200, map[string]any{"type": "apiVersion", "id": "v2-beta"})
}

// add stores a resource; obj is JSON text. It fills links and actions.
func (f *fake) add(obj string) {
	f.t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		f.t.Fatalf("fake object: %v", err)
	}
	id := f.str(m, "id")
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.objs[id]; !ok {
		f.order = append(f.order, id)
	}
	f.objs[id] = m
	f.refreshLocked(id)
}

func (f *fake) str(m map[string]json.RawMessage, k string) string {
	var s string
	_ = json.Unmarshal(m[k], &s)
	return s
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// serviceActions is the state table of rancher-cattle-api.md.
var serviceActions = map[string][]string{
	"active":            {"upgrade", "deactivate", "restart", "remove"},
	"inactive":          {"activate", "upgrade", "remove"},
	"upgrading":         {"rollback", "cancelupgrade", "remove"},
	"upgraded":          {"finishupgrade", "rollback", "remove"},
	"canceled-upgrade":  {"rollback", "continueupgrade", "remove"},
	"finishing-upgrade": {"cancelupgrade", "remove"},
}

func (f *fake) refreshLocked(id string) {
	m := f.objs[id]
	typ := f.str(m, "type")
	p := f.str(m, "accountId")
	self := foreign + "/v2-beta/projects/" + p + "/" + typ + "s/" + id
	if typ == "project" {
		self = foreign + "/v2-beta/projects/" + id
	}
	links := map[string]string{"self": self}
	acts := map[string]string{}
	if typ == "service" {
		links["instances"] = foreign + "/linked/instances/" + id
		for _, a := range serviceActions[f.str(m, "state")] {
			acts[a] = self + "/?action=" + a
		}
	}
	m["links"], m["actions"] = raw(links), raw(acts)
}

// set changes fields of a resource and publishes a resource.change.
func (f *fake) set(id string, fields map[string]any, publish bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range fields {
		f.objs[id][k] = raw(v)
	}
	f.refreshLocked(id)
	if publish {
		f.publishLocked(id, f.objs[id])
	}
}

// publish sends an event carrying obj (which need not be the stored state).
func (f *fake) publish(id string, obj any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publishLocked(id, obj)
}

func (f *fake) publishLocked(id string, obj any) {
	ev, _ := json.Marshal(map[string]any{"id": "ev", "name": "resource.change", "resourceType": "service",
		"resourceId": id, "time": 1, "data": map[string]any{"resource": obj}})
	for s := range f.subs {
		select {
		case s.ch <- ev:
		default:
			f.t.Errorf("fake: subscriber queue full")
		}
	}
}

func (f *fake) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	m, ok := f.objs[id]
	if ok && f.str(m, "type") == "service" {
		f.serviceGets[id]++
	}
	var b []byte
	if ok {
		b, _ = json.Marshal(m)
	}
	f.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		w.Write(readFixture(f.t, "error-404-not-found.json"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// listHandler serves a collection with field filters and marker pagination.
func (f *fake) listHandler(typ, projectVar string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		var items []map[string]json.RawMessage
		for _, id := range f.order {
			m := f.objs[id]
			if f.str(m, "type") != typ {
				continue
			}
			if projectVar != "" && f.str(m, "accountId") != r.PathValue(projectVar) {
				continue
			}
			match := true
			for k, vs := range q {
				if k == "limit" || k == "marker" || k == "removed_null" || k == "all" {
					continue
				}
				if f.str(m, k) != vs[0] {
					match = false
				}
			}
			if match {
				items = append(items, m)
			}
		}
		start := 0
		if mk := q.Get("marker"); mk != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(mk, "m"))
		}
		end := min(start+f.pageSize, len(items))
		pag := map[string]any{"first": nil, "previous": nil, "next": nil, "limit": f.pageSize, "total": nil, "partial": false}
		if end < len(items) {
			q.Set("marker", "m"+strconv.Itoa(end))
			pag["next"] = foreign + r.URL.Path + "?" + q.Encode()
			pag["partial"] = true
		}
		body, _ := json.Marshal(map[string]any{"type": "collection", "resourceType": typ,
			"links": map[string]string{"self": foreign + r.URL.RequestURI()}, "createTypes": map[string]string{},
			"actions": map[string]string{}, "pagination": pag, "sort": nil, "sortLinks": map[string]string{},
			"filters": map[string]any{}, "data": items[start:end]})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

func (f *fake) instances(w http.ResponseWriter, r *http.Request) {
	sid := r.PathValue("sid")
	f.mu.Lock()
	var ids []string
	_ = json.Unmarshal(f.objs[sid]["instanceIds"], &ids)
	f.mu.Unlock()
	var data []map[string]any
	for _, id := range ids {
		data = append(data, map[string]any{"id": id, "type": "container", "state": "running", "hostId": "1h1",
			"imageUuid": "docker:app:1", "serviceIds": []string{sid}, "links": map[string]string{}, "actions": map[string]string{}})
	}
	f.writeJSON(w, 200, map[string]any{"type": "collection", "resourceType": "container", "data": data,
		"pagination": map[string]any{"next": nil, "partial": false, "limit": 100}})
}

var actionEnds = map[string]string{
	"upgrade": "upgrading", "finishupgrade": "finishing-upgrade", "rollback": "rolling-back",
	"cancelupgrade": "canceling-upgrade", "continueupgrade": "upgrading", "activate": "activating",
	"deactivate": "deactivating", "restart": "restarting",
}

func (f *fake) action(w http.ResponseWriter, r *http.Request) {
	id, act := r.PathValue("id"), r.URL.Query().Get("action")
	var body json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		f.writeJSON(w, 400, map[string]any{"type": "error", "status": 400, "code": "InvalidBodyContent"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.objs[id]
	if !ok {
		w.WriteHeader(404)
		w.Write(readFixture(f.t, "error-404-not-found.json"))
		return
	}
	f.actions[id+" "+act] = append(f.actions[id+" "+act], body)
	allowed := false
	for _, a := range serviceActions[f.str(m, "state")] {
		allowed = allowed || a == act
	}
	if !allowed {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(422)
		w.Write(readFixture(f.t, "error-422-action-not-available.json"))
		return
	}
	if act == "upgrade" {
		var up struct {
			InServiceStrategy map[string]json.RawMessage `json:"inServiceStrategy"`
		}
		if err := json.Unmarshal(body, &up); err != nil {
			f.t.Errorf("upgrade body: %v", err)
		}
		if lc, ok := up.InServiceStrategy["launchConfig"]; ok {
			m["launchConfig"] = lc
		}
	}
	m["state"], m["transitioning"] = raw(actionEnds[act]), raw("yes")
	f.refreshLocked(id)
	b, _ := json.Marshal(m)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write(b)
}

func (f *fake) subscribe(w http.ResponseWriter, r *http.Request) {
	if got := r.URL.Query()["eventNames"]; len(got) != 1 || got[0] != "resource.change" {
		f.t.Errorf("subscribe eventNames = %v", got)
	}
	f.mu.Lock()
	if f.refuseWS {
		f.mu.Unlock()
		http.Error(w, "no", http.StatusServiceUnavailable)
		return
	}
	f.mu.Unlock()
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		f.t.Errorf("accept: %v", err)
		return
	}
	defer conn.CloseNow()
	s := &fakeSub{ch: make(chan []byte, 64), kill: make(chan struct{})}
	f.mu.Lock()
	f.subs[s] = struct{}{}
	f.conns++
	f.mu.Unlock()
	ctx := conn.CloseRead(r.Context())
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"name":"ping","data":null}`)); err != nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			f.dropSub(s)
			return
		case <-s.kill:
			return
		case ev := <-s.ch:
			if err := conn.Write(ctx, websocket.MessageText, ev); err != nil {
				f.dropSub(s)
				return
			}
		}
	}
}

func (f *fake) dropSub(s *fakeSub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; ok {
		delete(f.subs, s)
		close(s.kill)
	}
}

// dropSockets cuts every websocket.
func (f *fake) dropSockets() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		close(s.kill)
		delete(f.subs, s)
	}
}

func (f *fake) numBadAuth() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.badAuth
}

func (f *fake) numSubs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fake) numConns() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

func (f *fake) gets(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.serviceGets[id]
}

func (f *fake) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

func (f *fake) actionBodies(id, act string) []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.actions[id+" "+act]
}

// std adds project 1a5, stack 1st1 "web" and services from a template.
func (f *fake) std(services ...string) {
	f.add(`{"id":"1a5","type":"project","baseType":"project","name":"dev","state":"active"}`)
	f.add(`{"id":"1a6","type":"project","baseType":"project","name":"prod","state":"active"}`)
	f.add(`{"id":"1st1","type":"stack","name":"web","state":"active","accountId":"1a5"}`)
	f.add(`{"id":"1st2","type":"stack","name":"other","state":"active","accountId":"1a5"}`)
	for i, name := range services {
		f.addService(fmt.Sprintf("1s%d", i+1), name, "1st1", "active")
	}
}

func (f *fake) addService(id, name, stack, state string) {
	f.add(fmt.Sprintf(`{"id":%q,"type":"service","baseType":"service","name":%q,"stackId":%q,"accountId":"1a5",
		"state":%q,"transitioning":"no","transitioningMessage":null,"kind":"service","scale":2,"instanceIds":["1i1","1i2"],
		"launchConfig":{"type":"launchConfig","imageUuid":"docker:app:1","labels":{"a":"b"}},"secondaryLaunchConfigs":[]}`,
		id, name, stack, state))
}
