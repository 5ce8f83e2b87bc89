package netem

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults is an HTTP middleware that injects failures on demand and records
// every request. Create one with NewFaults, put it in front of a handler with
// Wrap, and turn the knobs at any time; each knob applies to requests that
// arrive after it was turned. The zero value is not usable.
type Faults struct {
	mu         sync.Mutex
	down, hang bool
	retryAfter time.Duration
	rules      []*rule
	listeners  []*listener
	stats      Stats
	log        []Entry
	inflight   int
	idle       chan struct{} // closed when inflight drops to 0
}

// rule fires once, on the nth request matching it counted from when it was armed.
type rule struct {
	class  Class // "" matches every class
	method string
	n      int
	status int // 0 means reset mid-body
}

// NewFaults returns a Faults with every knob off.
func NewFaults() *Faults {
	return &Faults{retryAfter: time.Second, stats: Stats{By: map[Key]Counter{}}}
}

// FailNth makes the nth request from now (any path; n < 1 counts as 1)
// answer status with a registry-style JSON error body instead of reaching
// the handler. A 429 or 503 carries Retry-After (see SetRetryAfter).
func (f *Faults) FailNth(n, status int) { f.arm(&rule{n: max(n, 1), status: status}) }

// FailNthOf is FailNth counting only requests of class c (method "" for any
// method), e.g. FailNthOf(ClassBlobs, "GET", 2, 500) fails the second blob
// download.
func (f *Faults) FailNthOf(c Class, method string, n, status int) {
	f.arm(&rule{class: c, method: method, n: max(n, 1), status: status})
}

// ResetMidBody makes the nth blob GET from now (n < 1 counts as 1) send
// about half of its body and then hijack and close the connection, so the
// client sees a truncated body (unexpected EOF / connection reset).
func (f *Faults) ResetMidBody(n int) {
	f.arm(&rule{class: ClassBlobs, method: http.MethodGet, n: max(n, 1)})
}

// Down makes the server look dead (true) or alive again (false). Listeners
// from f.Listen close their port while down; requests arriving on already
// open connections are cut without a response.
func (f *Faults) Down(down bool) {
	f.mu.Lock()
	f.down = down
	ls := append([]*listener(nil), f.listeners...)
	f.mu.Unlock()
	for _, l := range ls {
		l.setDown(down)
	}
}

// Hang makes every new request wait, unanswered, until its context ends
// (the client gives up or the server closes).
func (f *Faults) Hang(hang bool) {
	f.mu.Lock()
	f.hang = hang
	f.mu.Unlock()
}

// SetRetryAfter sets the Retry-After sent with injected 429 and 503
// answers, rounded up to whole seconds. The default is 1s.
func (f *Faults) SetRetryAfter(d time.Duration) {
	f.mu.Lock()
	f.retryAfter = d
	f.mu.Unlock()
}

// Clear disarms every pending FailNth and ResetMidBody and turns Down and
// Hang off. Stats and the log are kept.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules, f.hang = nil, false
	f.mu.Unlock()
	f.Down(false)
}

func (f *Faults) arm(r *rule) {
	f.mu.Lock()
	f.rules = append(f.rules, r)
	f.mu.Unlock()
}

// decide counts r against the armed rules and returns what to do with it.
func (f *Faults) decide(method string, c Class) (down, hang bool, status int, reset bool, retry time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return true, false, 0, false, 0
	}
	if f.hang {
		return false, true, 0, false, 0
	}
	kept := f.rules[:0]
	for _, r := range f.rules {
		if (r.class != "" && r.class != c) || (r.method != "" && r.method != method) {
			kept = append(kept, r)
			continue
		}
		r.n--
		if r.n > 0 || status != 0 || reset {
			kept = append(kept, r)
			if r.n <= 0 {
				r.n = 1 // fires on the next match instead
			}
			continue
		}
		if r.status == 0 {
			reset = true
		} else {
			status = r.status
		}
	}
	clear(f.rules[len(kept):])
	f.rules = kept
	return false, false, status, reset, f.retryAfter
}

// Wrap returns h behind f.
func (f *Faults) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		class, repo, ref := Classify(r.URL.Path)
		e := Entry{
			Time: start, Method: r.Method, Path: r.URL.Path, Class: class, Repo: repo, Ref: ref,
			RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent(),
		}
		cw := &countingWriter{ResponseWriter: w}
		var body *countingReader
		if r.Body != nil && r.Body != http.NoBody {
			body = &countingReader{r: r.Body}
			r.Body = readCloser{body, r.Body}
		}
		f.begin()
		defer func() {
			e.Status, e.BytesOut, e.Duration = cw.status, cw.n, time.Since(start)
			if body != nil {
				e.BytesIn = body.n
			}
			f.record(e)
		}()

		down, hang, status, reset, retry := f.decide(r.Method, class)
		switch {
		case down:
			e.Fault = "down"
			cut(w, false)
		case hang:
			e.Fault = "hang"
			<-r.Context().Done()
		case status != 0:
			e.Fault = "fail"
			writeError(cw, status, retry)
		default:
			if reset {
				e.Fault = "reset"
				cw.cut = true
			}
			h.ServeHTTP(cw, r)
		}
	})
}

func (f *Faults) begin() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inflight == 0 {
		f.idle = make(chan struct{})
	}
	f.inflight++
}

// Idle waits until no request is being handled, so that the log and the
// counters include every request whose response a client has already
// read (a handler records its entry just after the last byte is sent).
// Hung requests count as being handled.
func (f *Faults) Idle(ctx context.Context) error {
	f.mu.Lock()
	if f.inflight == 0 {
		f.mu.Unlock()
		return nil
	}
	ch := f.idle
	f.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cut hijacks the connection and closes it (after sending what was written
// so far when flush is set); if the writer cannot be hijacked it aborts the
// handler, which also drops the connection.
func cut(w http.ResponseWriter, flush bool) {
	rc := http.NewResponseController(w)
	if flush {
		_ = rc.Flush()
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func writeError(w http.ResponseWriter, status int, retry time.Duration) {
	code := "UNKNOWN"
	switch status {
	case http.StatusTooManyRequests:
		code = "TOOMANYREQUESTS"
	case http.StatusServiceUnavailable:
		code = "UNAVAILABLE"
	case http.StatusUnauthorized:
		code = "UNAUTHORIZED"
	case http.StatusNotFound:
		code = "NOT_FOUND"
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		secs := int((retry + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"injected fault: %d %s"}]}`+"\n", code, status, http.StatusText(status))
}

// countingWriter counts body bytes and, when cut is set, drops the
// connection after about half of the declared body.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
	cut    bool
	cutAt  int64
	gone   bool // connection already cut
}

func (w *countingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		if cl, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil && cl > 1 {
			w.cutAt = cl / 2
		} else {
			w.cutAt = 1
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.gone {
		return 0, io.ErrClosedPipe
	}
	if w.cut && w.n+int64(len(p)) >= w.cutAt {
		k := int(max(w.cutAt-w.n, 0))
		m, _ := w.ResponseWriter.Write(p[:k])
		w.n += int64(m)
		cut(w.ResponseWriter, true)
		w.cut, w.gone = false, true
		return m, io.ErrClosedPipe
	}
	m, err := w.ResponseWriter.Write(p)
	w.n += int64(m)
	return m, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush forwards to the underlying writer when it can flush.
func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}
