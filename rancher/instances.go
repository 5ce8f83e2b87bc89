package rancher

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// InstanceWatch keeps the instances (containers) of some services of one
// project current from the project's event stream, the websocket WaitFor
// shares, so that a caller can follow an upgrade's containers without
// listing them again and again. It is safe for concurrent use.
//
// A service's view is complete only while the stream has stayed connected
// since its tracking began: Instances says so, and after a reconnect (events
// may have been lost) the caller lists again with List. With the event
// stream off (WithEventStream(false)) no view is ever complete.
type InstanceWatch struct {
	c       *Client
	w       *waiter // nil: no event stream
	release func()

	mu   sync.Mutex
	svcs map[string]*tracking
}

// tracking is one service's view: base (nil until a listing answered),
// with the changes since tracking began applied over it.
type tracking struct {
	conn    uint64 // the stream's connection when tracking began; 0: down
	base    map[string]Instance
	changes map[string]Instance
}

// WatchInstances starts following project's instance changes on its event
// stream (connecting it if need be; it stays up until Close). Close it
// when done; Client.Close ends it too.
func (c *Client) WatchInstances(project string) *InstanceWatch {
	iw := &InstanceWatch{c: c, svcs: map[string]*tracking{}, release: func() {}}
	iw.w, iw.release = c.subscribeWith(project, &waiter{ch: make(chan json.RawMessage, 1), iw: iw})
	return iw
}

// Close stops the watch.
func (iw *InstanceWatch) Close() { iw.release() }

// Track starts (or starts over) following service id's instances from now
// on, over an empty base: the view holds the instances that change from now
// on, which is all of them that matter right before an action that replaces
// containers (an upgrade creates every new one after it is sent). It first
// waits for the stream's first connection attempt to end (at most the
// request timeout, or ctx), so that tracking right after WatchInstances
// can be complete.
func (iw *InstanceWatch) Track(ctx context.Context, id string) {
	if iw.w != nil {
		select {
		case <-iw.w.h.tried:
		case <-ctx.Done():
		}
	}
	iw.start(id, map[string]Instance{})
}

func (iw *InstanceWatch) start(id string, base map[string]Instance) *tracking {
	t := &tracking{base: base, changes: map[string]Instance{}}
	if iw.w != nil {
		t.conn = iw.w.h.connection()
	}
	iw.mu.Lock()
	defer iw.mu.Unlock()
	iw.svcs[id] = t
	return t
}

// List lists svc's instances (Client.Instances) and makes the listing the
// base of its view; changes from the start of the listing on apply over
// it. It returns the view.
func (iw *InstanceWatch) List(ctx context.Context, svc *Service) ([]Instance, error) {
	t := iw.start(svc.ID, nil)
	is, err := iw.c.Instances(ctx, svc)
	if err != nil {
		return nil, err
	}
	base := make(map[string]Instance, len(is))
	for _, in := range is {
		base[in.ID] = in
	}
	iw.mu.Lock()
	defer iw.mu.Unlock()
	t.base = base
	return t.view(), nil
}

// Instances returns service id's view, and whether it is complete: the
// service is tracked, its listing (if any) has answered, and the stream has
// stayed connected since tracking began. It makes no request.
func (iw *InstanceWatch) Instances(id string) ([]Instance, bool) {
	iw.mu.Lock()
	t := iw.svcs[id]
	iw.mu.Unlock()
	if t == nil || iw.w == nil {
		return nil, false
	}
	ok := t.conn != 0 && iw.w.h.connection() == t.conn
	iw.mu.Lock()
	defer iw.mu.Unlock()
	if t.base == nil {
		return nil, false
	}
	return t.view(), ok
}

// Untrack stops following service id.
func (iw *InstanceWatch) Untrack(id string) {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	delete(iw.svcs, id)
}

// view is base with changes applied, by id; the caller holds iw.mu.
func (t *tracking) view() []Instance {
	m := make(map[string]Instance, len(t.base)+len(t.changes))
	for id, in := range t.base {
		m[id] = in
	}
	for id, in := range t.changes {
		m[id] = in
	}
	out := make([]Instance, 0, len(m))
	for _, in := range m {
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// changed records an instance's new state for the services it belongs to.
// Called with its hub's mu held.
func (iw *InstanceWatch) changed(in *Instance) {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	for _, sid := range in.ServiceIDs {
		if t := iw.svcs[sid]; t != nil {
			t.changes[in.ID] = *in
		}
	}
}

// asInstance decodes the resource of a resource.change event when it is an
// instance of some service (Cattle's resourceType "instance", or the
// resource's own type or baseType), else nil.
func asInstance(resourceType string, res json.RawMessage) *Instance {
	var in struct {
		Instance
		BaseType string `json:"baseType"`
	}
	if json.Unmarshal(res, &in) != nil || len(in.ServiceIDs) == 0 || in.ID == "" {
		return nil
	}
	switch {
	case resourceType == "instance", resourceType == "container",
		in.BaseType == "instance", in.Type == "container":
		return &in.Instance
	}
	return nil
}
