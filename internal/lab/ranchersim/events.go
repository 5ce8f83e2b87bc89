package ranchersim

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// subscriber is one subscribe websocket.
type subscriber struct {
	projects map[*Project]bool
	rc       *rctx
	changes  bool  // subscribed to resource.change
	since    int64 // changes up to this sequence number happened before it subscribed
	ch       chan []byte
	conn     *websocket.Conn
}

// event is Cattle's event envelope; fields a subscriber gets as null are kept.
func event(name, resourceType, resourceID string, data any) map[string]any {
	return map[string]any{
		"id": newUUID(), "name": name, "replyTo": nil, "resourceId": emptyNil(resourceID),
		"resourceType": emptyNil(resourceType), "publisher": nil, "transitioning": nil,
		"transitioningMessage": nil, "transitioningInternalMessage": nil, "previousIds": nil,
		"previousNames": nil, "data": data, "time": time.Now().UnixMilli(), "timeoutMillis": nil,
		"transitioningProgress": nil, "context": nil,
	}
}

// subscribe serves GET .../subscribe?eventNames=resource.change as a websocket: a ping
// event at once and every ping period, and merged resource.change events.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request, rc *rctx, scope []*Project) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeErr(w, errStatus(http.StatusServiceUnavailable))
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	sub := &subscriber{projects: map[*Project]bool{}, rc: rc, ch: make(chan []byte, 4096), conn: c}
	for _, p := range scope {
		sub.projects[p] = true
	}
	for _, n := range r.URL.Query()["eventNames"] {
		if n == "resource.change" {
			sub.changes = true
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	sub.since = s.seq
	s.subs[sub] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}()
	ctx := c.CloseRead(s.ctx)
	ping := func() bool {
		b, _ := json.Marshal(event("ping", "", "", nil))
		return write(ctx, c, b)
	}
	if !ping() {
		return
	}
	t := time.NewTicker(s.opts.pingPeriod)
	defer t.Stop()
	life := time.NewTimer(s.opts.subLifetime)
	defer life.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-life.C:
			_ = c.Close(websocket.StatusNormalClosure, "subscription expired")
			return
		case <-t.C:
			if !ping() {
				return
			}
		case b := <-sub.ch:
			if !write(ctx, c, b) {
				return
			}
		}
	}
}

func write(ctx context.Context, c *websocket.Conn, b []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b) == nil
}

// DropWebsockets closes every subscribe websocket abruptly (no close frame), as a
// network failure or proxy would, and returns how many it closed. Subscribers
// must reconnect.
func (s *Server) DropWebsockets() int {
	s.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(s.subs))
	for sub := range s.subs {
		conns = append(conns, sub.conn)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.CloseNow()
	}
	return len(conns)
}

func (s *Server) publishLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.eventPeriod)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.publish()
		}
	}
}

// publish sends one resource.change per resource changed since the last publish (its
// state now: changes are merged), in the order resources first changed.
func (s *Server) publish() {
	type out struct {
		sub  *subscriber
		msgs [][]byte
	}
	var outs []out
	s.mu.Lock()
	dirty, seqs := s.dirty, s.dirtySet
	s.dirty, s.dirtySet = nil, map[any]int64{}
	for sub := range s.subs {
		if !sub.changes {
			continue
		}
		o := out{sub: sub}
		for _, obj := range dirty {
			if !sub.projects[projectOf(obj)] || seqs[obj] <= sub.since {
				continue
			}
			res := sub.rc.render(obj)
			if res == nil {
				continue
			}
			rt, _ := res["baseType"].(string)
			b, err := json.Marshal(event("resource.change", rt, objID(obj), map[string]any{"resource": res}))
			if err == nil {
				o.msgs = append(o.msgs, b)
			}
		}
		outs = append(outs, o)
	}
	s.mu.Unlock()
	for _, o := range outs {
		for _, m := range o.msgs {
			select {
			case o.sub.ch <- m:
			default: // a subscriber this far behind is dropped, like a slow Cattle client
				_ = o.sub.conn.CloseNow()
			}
		}
	}
}

func projectOf(o any) *Project {
	switch x := o.(type) {
	case *Project:
		return x
	case *Stack:
		return x.p
	case *Service:
		return x.p
	case *Host:
		return x.p
	case *container:
		return x.p
	case *genericObject:
		return x.p
	}
	return nil
}
