package rancher

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/drover-dev/drover/internal/ctxsleep"
)

// hub is one project's subscribe websocket, shared by every waiter of the
// Client in that project. It lives while it has waiters (plus a short
// grace), reconnects with backoff, and after every connect tells each waiter
// to re-read (events may have been missed while it was down).
type hub struct {
	c       *Client
	project string
	ctx     context.Context
	cancel  context.CancelFunc

	tried     chan struct{} // closed once the first dial has ended, either way
	triedOnce sync.Once

	mu        sync.Mutex
	waiters   map[*waiter]struct{}
	connected bool
	gen       uint64 // connections made: a change means events may have been missed
	stopped   bool
	idle      *time.Timer
}

// waiter receives the raw resource of each change of its resource id; a
// nil message means "re-read" (connected, or an event without data), an
// empty one "disconnected" (streamDown). Only the latest message is kept.
type waiter struct {
	id string
	h  *hub
	ch chan json.RawMessage
	iw *InstanceWatch // receives the project's instance changes (id is "")
}

// maxEvent bounds one event frame: a resource.change carries one
// resource's data (a service's launch config is a few KB), so 8 MiB is
// generous; maxBody, sized for a page of 3000 services, was too much to
// hold per project for one frame.
const maxEvent = 8 << 20

func (w *waiter) notify(m json.RawMessage) {
	for {
		select {
		case w.ch <- m:
			return
		default:
		}
		select {
		case <-w.ch:
		default:
		}
	}
}

// streaming reports whether the waiter's hub is connected now.
func (w *waiter) streaming() bool {
	if w == nil {
		return false
	}
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.connected && !w.h.stopped
}

// subscribe registers a waiter for resource id in project. It returns nil
// (and a no-op release) when the event stream is off or the client closed.
func (c *Client) subscribe(project, id string) (*waiter, func()) {
	return c.subscribeWith(project, &waiter{id: id, ch: make(chan json.RawMessage, 1)})
}

func (c *Client) subscribeWith(project string, w *waiter) (*waiter, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.opts.events || c.closed {
		return nil, func() {}
	}
	h := c.hubs[project]
	if h == nil {
		ctx, cancel := context.WithCancel(context.Background())
		h = &hub{c: c, project: project, ctx: ctx, cancel: cancel, waiters: map[*waiter]struct{}{}, tried: make(chan struct{})}
		c.hubs[project] = h
		c.hubsDone.Add(1)
		go h.run()
	}
	w.h = h
	h.mu.Lock()
	h.waiters[w] = struct{}{}
	if h.idle != nil {
		h.idle.Stop()
		h.idle = nil
	}
	h.mu.Unlock()
	return w, func() { h.remove(w) }
}

func (h *hub) remove(w *waiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.waiters, w)
	if len(h.waiters) == 0 && !h.stopped && h.idle == nil {
		h.idle = time.AfterFunc(h.c.opts.idleGrace, h.stopIfIdle)
	}
}

func (h *hub) stopIfIdle() {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	h.mu.Lock()
	idle := len(h.waiters) == 0
	h.mu.Unlock()
	if idle {
		h.stop()
	}
}

// stop ends the hub; the caller holds c.mu.
func (h *hub) stop() {
	h.mu.Lock()
	h.stopped = true
	if h.idle != nil {
		h.idle.Stop()
		h.idle = nil
	}
	h.mu.Unlock()
	if h.c.hubs[h.project] == h {
		delete(h.c.hubs, h.project)
	}
	h.cancel()
}

// streamDown tells waiters that the socket is down (and polls are due at
// the faster pace); it is not nil, and empty.
var streamDown = json.RawMessage{}

// setConnected records the socket's state and reports whether it changed.
func (h *hub) setConnected(on bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.connected
	h.connected = on
	if on && !was {
		h.gen++
	}
	return was != on
}

// connection is the current connection's number, 0 while disconnected.
func (h *hub) connection() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.connected || h.stopped {
		return 0
	}
	return h.gen
}

func (h *hub) triedDial() { h.triedOnce.Do(func() { close(h.tried) }) }

// instanceChanged hands an instance's new state to the instance watches.
func (h *hub) instanceChanged(in *Instance) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.waiters {
		if w.iw != nil {
			w.iw.changed(in)
		}
	}
}

// watchesInstances reports whether some waiter wants instance changes.
func (h *hub) watchesInstances() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.waiters {
		if w.iw != nil {
			return true
		}
	}
	return false
}

// broadcast sends m to the waiters of id, or to all when id is "".
func (h *hub) broadcast(id string, m json.RawMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.waiters {
		if id == "" || w.id == id {
			w.notify(m)
		}
	}
}

func (h *hub) run() {
	defer h.c.hubsDone.Done()
	defer h.triedDial()
	o := h.c.opts
	backoff := o.backoffMin
	for h.ctx.Err() == nil {
		start := time.Now()
		err := h.session()
		if h.setConnected(false) {
			h.broadcast("", streamDown)
		}
		if h.ctx.Err() != nil {
			return
		}
		if time.Since(start) > 2*o.readTimeout {
			backoff = o.backoffMin // it was a healthy connection
		}
		d := backoff/2 + rand.N(backoff/2+1)
		h.c.log.Debug("rancher: event stream down, reconnecting", "project", h.project, "err", err, "in", d)
		if ctxsleep.Sleep(h.ctx, d) != nil {
			return
		}
		backoff = min(backoff*2, o.backoffMax)
	}
}

// subscribeURL is the project's subscribe link for resource.change events.
func (h *hub) subscribeURL() string {
	return h.c.projectURL(h.project) + "/subscribe?eventNames=resource.change"
}

// session dials once and reads events until the socket fails.
func (h *hub) session() error {
	c := h.c
	hdr := http.Header{}
	if c.auth != "" {
		hdr.Set("Authorization", c.auth)
	}
	dctx, cancel := context.WithTimeout(h.ctx, c.opts.requestTimeout)
	conn, resp, err := websocket.Dial(dctx, h.subscribeURL(), &websocket.DialOptions{HTTPClient: c.hc, HTTPHeader: hdr})
	cancel()
	if err != nil {
		h.triedDial()
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close() // nil after a handshake; the start of an error answer otherwise
	}
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxEvent)
	c.log.Debug("rancher: event stream connected", "project", h.project)
	h.setConnected(true)
	h.triedDial()
	h.broadcast("", nil) // re-read: changes while we were away are not replayed
	for {
		rctx, cancel := context.WithTimeout(h.ctx, c.opts.readTimeout)
		_, data, err := conn.Read(rctx)
		cancel()
		if err != nil {
			return err
		}
		var ev Event
		if err := json.Unmarshal(data, &ev); err != nil {
			c.log.Debug("rancher: undecodable event", "project", h.project, "err", err)
			continue
		}
		if ev.Name != "resource.change" {
			continue // ping: it kept the read deadline from firing
		}
		var res json.RawMessage
		if ev.Data != nil && len(ev.Data.Resource) > 0 && string(ev.Data.Resource) != "null" {
			res = ev.Data.Resource
		}
		id := ev.ResourceID
		if id == "" && res != nil {
			var r struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(res, &r)
			id = r.ID
		}
		if id == "" {
			continue
		}
		if res != nil && h.watchesInstances() {
			if in := asInstance(ev.ResourceType, res); in != nil {
				h.instanceChanged(in)
			}
		}
		h.broadcast(id, res)
	}
}
