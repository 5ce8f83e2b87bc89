package ranchersim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// fakeEngine is an in-memory Engine: images present, containers, a call log, optional
// pull time (time.Sleep, so synctest fakes it), pull failures and gates that hold an
// operation until released.
type fakeEngine struct {
	name     string
	pullTime time.Duration
	opTime   time.Duration // each container operation takes this long

	mu         sync.Mutex
	images     map[string]bool
	containers map[string]string // id -> state
	calls      []string
	pullErr    error
	gates      map[string]chan struct{} // op -> gate (closed = open)
	blocked    map[string]int           // op -> calls waiting at its gate
	n          int
}

func newFakeEngine(name string, images ...string) *fakeEngine {
	e := &fakeEngine{name: name, images: map[string]bool{}, containers: map[string]string{}, gates: map[string]chan struct{}{}, blocked: map[string]int{}}
	for _, i := range images {
		e.images[i] = true
	}
	return e
}

func (e *fakeEngine) log(format string, args ...any) {
	e.calls = append(e.calls, fmt.Sprintf(format, args...))
}

// hold makes the next calls of op ("start", "stop", "remove", "pull", "create") block
// until the returned release func is called.
func (e *fakeEngine) hold(op string) (release func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch := make(chan struct{})
	e.gates[op] = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			if e.gates[op] == ch {
				delete(e.gates, op)
			}
			e.mu.Unlock()
			close(ch)
		})
	}
}

// wait blocks while op is held (or until ctx ends), then sleeps opTime.
func (e *fakeEngine) wait(ctx context.Context, op string) error {
	e.mu.Lock()
	ch := e.gates[op]
	d := e.opTime
	e.mu.Unlock()
	if ch != nil {
		e.mu.Lock()
		e.blocked[op]++
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.blocked[op]--
			e.mu.Unlock()
		}()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if d > 0 && op != "pull" {
		time.Sleep(d)
	}
	return nil
}

func (e *fakeEngine) EnsureImage(ctx context.Context, ref string, always bool) error {
	e.mu.Lock()
	present := e.images[ref]
	err := e.pullErr
	e.log("ensure %s always=%v", ref, always)
	e.mu.Unlock()
	if present && !always {
		return nil
	}
	if werr := e.wait(ctx, "pull"); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.log("pull %s", ref)
	e.mu.Unlock()
	if e.pullTime > 0 {
		t := time.NewTimer(e.pullTime)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.mu.Lock()
	e.images[ref] = true
	e.mu.Unlock()
	return nil
}

func (e *fakeEngine) CreateContainer(name, ref string) (string, error) {
	_ = e.wait(context.Background(), "create")
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.images[ref] {
		return "", fmt.Errorf("no such image: %s", ref)
	}
	e.n++
	id := fmt.Sprintf("%s-c%d", e.name, e.n)
	e.containers[id] = "created"
	e.log("create %s %s", name, ref)
	return id, nil
}

func (e *fakeEngine) op(op, id, state string) error {
	_ = e.wait(context.Background(), op)
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.containers[id]; !ok {
		return errors.New("no such container: " + id)
	}
	e.log("%s %s", op, id)
	if state == "" {
		delete(e.containers, id)
	} else {
		e.containers[id] = state
	}
	return nil
}

func (e *fakeEngine) StartContainer(id string) error  { return e.op("start", id, "running") }
func (e *fakeEngine) StopContainer(id string) error   { return e.op("stop", id, "exited") }
func (e *fakeEngine) RemoveContainer(id string) error { return e.op("remove", id, "") }

func (e *fakeEngine) count(state string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, s := range e.containers {
		if s == state {
			n++
		}
	}
	return n
}

func (e *fakeEngine) callLog() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

func (e *fakeEngine) setPullErr(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pullErr = err
}

func (e *fakeEngine) blockedAt(op string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.blocked[op]
}
