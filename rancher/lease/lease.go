package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drover-dev/drover/internal/ctxsleep"
)

// Kind is the genericObject kind of Drover's lease objects; their key is the
// environment name.
const Kind = "droverLease"

// Info says who holds a lease: shown to anyone who finds the environment busy.
type Info struct {
	Who     string    `json:"who"`     // user@host
	Where   string    `json:"where"`   // host and process id
	Command string    `json:"command"` // the command line that took the lease
	Since   time.Time `json:"since"`
}

// Local describes this process running command: Who is user@hostname, Where is
// "hostname pid N", Since is now.
func Local(command string) Info {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	name := "unknown-user"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return Info{Who: name + "@" + host, Where: host + " pid " + strconv.Itoa(os.Getpid()),
		Command: command, Since: time.Now()}
}

// record is a lease object's resourceData.
type record struct {
	Info
	ExpiresAt time.Time `json:"expiresAt"`
}

// Holder is a lease object as read back from Rancher.
type Holder struct {
	Info
	ID        string
	ExpiresAt time.Time
	// Expired is set when ExpiresAt has passed: the holder stopped renewing (crashed).
	Expired bool
}

// Manager takes, inspects and breaks leases on environments, through one [Store].
type Manager struct {
	store Store
	o     options
}

// New returns a Manager over store.
func New(store Store, opts ...Option) (*Manager, error) {
	if store == nil {
		return nil, errors.New("lease: nil store")
	}
	o := defaultOptions()
	var errs []error
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	o.renew = o.ttl / 3
	return &Manager{store: store, o: o}, nil
}

// Acquire takes the lease on env for holder. It creates its own lease object, then
// lists the environment's: the live object with the lowest id holds the lease. If that
// is another run's, Acquire deletes its object and returns a [*HeldError] naming the
// holder. Lower objects past their expiry (their holder crashed) are deleted with a
// warning, and reported in [Lease.TakenOver].
//
// The lease is renewed in the background until [Lease.Release].
func (m *Manager) Acquire(ctx context.Context, env string, holder Info) (*Lease, error) {
	if env == "" {
		return nil, errors.New("lease: empty environment name")
	}
	if holder.Since.IsZero() {
		holder.Since = m.o.now()
	}
	rec := record{Info: holder, ExpiresAt: m.o.now().Add(m.o.ttl)}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", env, err)
	}
	own, err := m.store.Create(ctx, Object{Name: "drover lease " + env, Kind: Kind, Key: env, ResourceData: data})
	if err != nil {
		return nil, fmt.Errorf("lease %s: create: %w", env, err)
	}
	l := &Lease{m: m, env: env, id: own.ID, rec: rec, lost: make(chan struct{}), stop: make(chan struct{})}
	if err := m.contend(ctx, l); err != nil {
		m.drop(ctx, env, own.ID)
		return nil, err
	}
	if m.o.settle > 0 {
		if ctxsleep.Sleep(ctx, m.o.settle) != nil {
			m.drop(ctx, env, own.ID)
			return nil, fmt.Errorf("lease %s: %w", env, ctx.Err())
		}
		if err := m.contend(ctx, l); err != nil {
			m.drop(ctx, env, own.ID)
			return nil, err
		}
	}
	l.done.Add(1)
	go l.renewLoop()
	return l, nil
}

// contend lists the environment's lease objects and decides: nil when l's object is the
// lowest live one (expired lower ones deleted on the way), a *HeldError otherwise.
func (m *Manager) contend(ctx context.Context, l *Lease) error {
	objs, err := m.store.List(ctx, Kind, l.env)
	if err != nil {
		return fmt.Errorf("lease %s: list: %w", l.env, err)
	}
	now := m.o.now()
	for _, o := range sortByID(objs) {
		if o.ID == l.id {
			return nil
		}
		h := holderOf(o, now)
		if !h.Expired {
			return &HeldError{Env: l.env, Holder: h}
		}
		m.o.logger.Warn("taking over an expired lease: its holder stopped renewing it",
			"env", l.env, "lease", h.ID, "who", h.Who, "where", h.Where, "command", h.Command,
			"since", h.Since, "expired", h.ExpiresAt)
		if err := m.store.Delete(ctx, o.ID); err != nil {
			return fmt.Errorf("lease %s: delete expired lease %s of %s: %w", l.env, o.ID, h.Who, err)
		}
		l.takenOver = append(l.takenOver, h)
	}
	// Our own object is not listed: someone removed it (an unlock) in between.
	return fmt.Errorf("lease %s: our lease object %s disappeared while acquiring: %w", l.env, l.id, ErrLost)
}

// drop deletes an object of ours after a failed Acquire, even when ctx is cancelled.
func (m *Manager) drop(ctx context.Context, env, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.o.release)
	defer cancel()
	if err := m.store.Delete(ctx, id); err != nil {
		m.o.logger.Warn("could not delete our lease object; it expires by itself",
			"env", env, "lease", id, "err", err)
	}
}

// Inspect returns the holder of env's lease, or nil when nobody holds it. A holder
// whose lease has expired (crashed) is returned with Expired set.
func (m *Manager) Inspect(ctx context.Context, env string) (*Holder, error) {
	objs, err := m.store.List(ctx, Kind, env)
	if err != nil {
		return nil, fmt.Errorf("lease %s: list: %w", env, err)
	}
	now := m.o.now()
	var first *Holder
	for _, o := range sortByID(objs) {
		h := holderOf(o, now)
		if !h.Expired {
			return &h, nil
		}
		if first == nil {
			first = &h
		}
	}
	return first, nil
}

// ForceUnlock deletes every lease object of env, live or not, and returns what it
// removed. It is for a human who knows the holder is gone; a run still holding the
// lease notices at its next renewal ([ErrLost]).
func (m *Manager) ForceUnlock(ctx context.Context, env string) ([]Holder, error) {
	objs, err := m.store.List(ctx, Kind, env)
	if err != nil {
		return nil, fmt.Errorf("lease %s: list: %w", env, err)
	}
	now := m.o.now()
	var removed []Holder
	var errs []error
	for _, o := range sortByID(objs) {
		if err := m.store.Delete(ctx, o.ID); err != nil {
			errs = append(errs, fmt.Errorf("lease %s: delete %s: %w", env, o.ID, err))
			continue
		}
		removed = append(removed, holderOf(o, now))
	}
	return removed, errors.Join(errs...)
}

// holderOf decodes a lease object. One whose data cannot be read never expires by
// itself: it names its id so a human can remove it.
func holderOf(o Object, now time.Time) Holder {
	var rec record
	if err := json.Unmarshal(o.ResourceData, &rec); err != nil || rec.ExpiresAt.IsZero() {
		return Holder{ID: o.ID, Info: Info{Who: "(unreadable lease object " + o.ID + ")", Where: "unknown",
			Command: "unknown"}}
	}
	return Holder{Info: rec.Info, ID: o.ID, ExpiresAt: rec.ExpiresAt, Expired: !now.Before(rec.ExpiresAt)}
}

// sortByID drops removed objects and orders the rest by id number (1go9 before 1go10).
func sortByID(objs []Object) []Object {
	out := slices.DeleteFunc(slices.Clone(objs), Object.removed)
	slices.SortFunc(out, func(a, b Object) int {
		if c := idNum(a.ID) - idNum(b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func idNum(id string) int {
	i := strings.LastIndexFunc(id, func(r rune) bool { return r < '0' || r > '9' })
	n, _ := strconv.Atoi(id[i+1:])
	return n
}

// Lease is a held lease. Its methods are safe for concurrent use.
type Lease struct {
	m         *Manager
	env, id   string
	takenOver []Holder

	mu   sync.Mutex
	rec  record
	err  error
	lost chan struct{} // closed when the lease is lost
	stop chan struct{} // closed by Release
	once sync.Once
	done sync.WaitGroup
}

// ID returns the lease object's id.
func (l *Lease) ID() string { return l.id }

// TakenOver returns the expired leases Acquire removed to take this one.
func (l *Lease) TakenOver() []Holder { return slices.Clone(l.takenOver) }

// ExpiresAt returns when the lease expires unless renewed.
func (l *Lease) ExpiresAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rec.ExpiresAt
}

// Lost is closed when the lease stops being ours; [Lease.Err] then says why. A run
// should stop starting new work when it fires.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err returns nil while the lease is held, an error wrapping [ErrLost] once lost.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *Lease) renewLoop() {
	defer l.done.Done()
	t := time.NewTicker(l.m.o.renew)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		if l.renew() {
			return
		}
	}
}

// renew pushes the expiry out by the TTL; it reports whether the lease is lost.
func (l *Lease) renew() bool {
	now := l.m.o.now()
	l.mu.Lock()
	rec := l.rec
	l.mu.Unlock()
	rec.ExpiresAt = now.Add(l.m.o.ttl)
	data, err := json.Marshal(rec)
	if err != nil {
		return l.lose(fmt.Errorf("lease %s: %w", l.env, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.m.o.renew)
	defer cancel()
	o, err := l.m.store.Update(ctx, l.id, data)
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == 404, err == nil && o.removed():
		return l.lose(fmt.Errorf("lease %s: object %s was removed by someone else (an unlock, or a takeover after failed renewals): %w",
			l.env, l.id, ErrLost))
	case err != nil:
		l.mu.Lock()
		expires := l.rec.ExpiresAt
		l.mu.Unlock()
		if !l.m.o.now().Before(expires) {
			return l.lose(fmt.Errorf("lease %s: renewals failed until it expired at %s, last: %w: %w",
				l.env, expires.UTC().Format(time.RFC3339), err, ErrLost))
		}
		l.m.o.logger.Warn("lease renewal failed; retrying", "env", l.env, "lease", l.id,
			"expires", expires, "err", err)
		return false
	}
	l.mu.Lock()
	l.rec = rec
	l.mu.Unlock()
	return false
}

func (l *Lease) lose(err error) bool {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	close(l.lost)
	l.m.o.logger.Warn("lease lost", "env", l.env, "lease", l.id, "err", err)
	return true
}

// Release stops renewing and deletes the lease object. It runs even when ctx is
// cancelled (a Ctrl-C or a failed run must still release), bounded by the release
// timeout. Calling it again does nothing.
func (l *Lease) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		l.done.Wait()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.m.o.release)
		defer cancel()
		if derr := l.m.store.Delete(ctx, l.id); derr != nil {
			err = fmt.Errorf("lease %s: release %s: %w", l.env, l.id, derr)
		}
	})
	return err
}
