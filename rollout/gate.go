package rollout

import (
	"context"
	"errors"
	"fmt"
	"github.com/drover-dev/drover/internal/ctxsleep"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// GateStatus is the gate's last check of one environment.
type GateStatus struct {
	Open bool `json:"open"`
	// Checked counts host x image pairs checked.
	Checked int `json:"checked"`
	// Inactive lists hosts left out because Rancher does not report them
	// active (name: state).
	Inactive []string  `json:"inactive,omitempty"`
	Missing  []Missing `json:"missing,omitempty"`
	Waited   string    `json:"waited,omitempty"`
}

// Missing is one image not (known to be) on one host.
type Missing struct {
	Host  string `json:"host"`
	Image string `json:"image"`
	Error string `json:"error,omitempty"` // the host could not be asked, or the pull failed
	// NoPlatform: the image has no entry for the host's platform
	// (ErrNoPlatform); no wait and no pull brings it.
	NoPlatform bool `json:"noPlatform,omitempty"`
	// NotInInventory: the host is in Rancher but not in the inventory
	// (ErrNotInInventory); no prewarm command names it.
	NotInInventory bool `json:"notInInventory,omitempty"`
	// Refused: Rancher refused access to the host (ErrRefused: the API
	// key may not open its Docker socket, or the relay refused its token
	// or was unencrypted); no wait and no pull changes that.
	Refused bool `json:"refused,omitempty"`
}

// noPlatform reports whether some pair is missing for good (NoPlatform).
func (st GateStatus) noPlatform() bool {
	return slices.ContainsFunc(st.Missing, func(m Missing) bool { return m.NoPlatform })
}

// refused reports whether Rancher refused access to some host (Refused).
func (st GateStatus) refused() bool {
	return slices.ContainsFunc(st.Missing, func(m Missing) bool { return m.Refused })
}

type gatePair struct {
	host Host
	img  Image
}

// gatePairs lists, for the services, every (active host that can run it,
// image) pair, and the hosts left out.
func gatePairs(hosts []Host, svcs []*svcRun) (pairs []gatePair, inactive []string, orphans []Missing) {
	seen := map[string]bool{}
	for _, h := range hosts {
		if h.State != StateActive {
			inactive = append(inactive, h.Name+": "+h.State)
		}
	}
	for _, s := range svcs {
		imgs := []Image{s.target.Image}
		for _, name := range sortedKeys(s.target.Sidekicks) {
			imgs = append(imgs, s.target.Sidekicks[name])
		}
		n := 0
		for _, h := range hosts {
			if h.State != StateActive || !CanRun(s.cur.Labels, h.Labels) {
				continue
			}
			n++
			for _, img := range imgs {
				k := h.ID + "\x00" + img.Ref + "\x00" + img.Digest
				if !seen[k] {
					seen[k] = true
					pairs = append(pairs, gatePair{h, img})
				}
			}
		}
		if n == 0 {
			orphans = append(orphans, Missing{Host: "-", Image: s.target.Image.Ref,
				Error: fmt.Sprintf("no active host can run %s (scheduling labels)", s.target.Service)})
		}
	}
	sort.Strings(inactive)
	return pairs, inactive, orphans
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

const presenceConcurrency = 16

// checkGate checks every pair once.
func (e *Engine) checkGate(ctx context.Context, env string, hosts []Host, svcs []*svcRun, deadline time.Time) (GateStatus, []gatePair) {
	pairs, inactive, orphans := gatePairs(hosts, svcs)
	st := GateStatus{Checked: len(pairs), Inactive: inactive, Missing: orphans}
	var mu sync.Mutex
	var missing []gatePair
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(presenceConcurrency)
	for _, p := range pairs {
		g.Go(func() error {
			ok, err := e.present(gctx, env, p, deadline)
			if ok && err == nil {
				return nil
			}
			m := Missing{Host: p.host.Name, Image: p.img.Ref}
			if err != nil {
				m.Error, m.NoPlatform = err.Error(), errors.Is(err, ErrNoPlatform)
				m.NotInInventory = errors.Is(err, ErrNotInInventory)
				m.Refused = errors.Is(err, ErrRefused)
			}
			mu.Lock()
			st.Missing = append(st.Missing, m)
			missing = append(missing, p)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	slices.SortFunc(st.Missing, func(a, b Missing) int {
		if a.Host != b.Host {
			return cmpStr(a.Host, b.Host)
		}
		return cmpStr(a.Image, b.Image)
	})
	st.Open = len(st.Missing) == 0
	return st, missing
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

const pullConcurrency = 8

// minGateCheck is the least time one presence check (one inspect of one
// image on one host) gets: with --gate-timeout 0 ("check once"), or a check
// started just before the deadline, a host still gets that long to answer.
const minGateCheck = 5 * time.Second

// gate waits until every pair is present (pulling the missing ones with
// --prewarm), re-checking every gateInterval up to gateTimeout. Its
// deadline bounds every check inside it (see minGateCheck) and, when
// gateTimeout is set, every pull: a hung host counts as missing once the
// gate's time is up, whatever prewarm's own timeouts. It makes no Rancher
// call.
//
// With once (a rollback's upgrade back) and no --prewarm it checks once and
// returns: the previous image is on a host or it is not, and waiting out
// the gate timeout for nobody to bring it helps no one. Nor does it wait or
// pull when a host can never hold an image (Missing.NoPlatform), or when
// Rancher refused access to a host (Missing.Refused: the key's role, the
// relay's token or its unencrypted URL, which no wait changes).
func (e *Engine) gate(ctx context.Context, env string, hosts []Host, svcs []*svcRun, once bool) GateStatus {
	start := time.Now()
	deadline := start.Add(e.gateTimeout)
	for round := 1; ; round++ {
		st, missing := e.checkGate(ctx, env, hosts, svcs, deadline)
		st.Waited = time.Since(start).Round(time.Millisecond).String()
		if st.Open || ctx.Err() != nil || (once && e.puller == nil) || st.noPlatform() || st.refused() {
			return st
		}
		if e.puller != nil && len(missing) > 0 {
			e.emit(Event{Env: env, Step: "gate", Message: fmt.Sprintf("pulling %d missing image(s) (round %d)", len(missing), round)})
			pctx, cancel := ctx, context.CancelFunc(func() {})
			if e.gateTimeout > 0 {
				pctx, cancel = context.WithDeadlineCause(ctx, deadline, fmt.Errorf("pull not done within the %v gate timeout", e.gateTimeout))
			}
			e.pullAll(pctx, env, missing)
			cancel()
			if st2, _ := e.checkGate(ctx, env, hosts, svcs, deadline); st2.Open {
				st2.Waited = time.Since(start).Round(time.Millisecond).String()
				return st2
			}
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return st
		}
		e.emit(Event{Env: env, Step: "gate", Message: fmt.Sprintf("%d host/image pair(s) missing; re-checking", len(st.Missing))})
		if ctxsleep.Sleep(ctx, min(wait, e.gateInterval)) != nil {
			return st
		}
	}
}

// present is one presence check, bounded by the gate's deadline (at least
// minGateCheck from now). A check cut off by that bound says so.
func (e *Engine) present(ctx context.Context, env string, p gatePair, deadline time.Time) (bool, error) {
	start := time.Now()
	end := start.Add(minGateCheck)
	if deadline.After(end) {
		end = deadline
	}
	cctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	ok, err := e.presence.Present(cctx, env, p.host, p.img)
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("host %s: no answer within %v (the gate's deadline, --gate-timeout)", p.host.Name, end.Sub(start).Round(time.Second))
	}
	return ok, err
}

func (e *Engine) pullAll(ctx context.Context, env string, missing []gatePair) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pullConcurrency)
	for _, p := range missing {
		g.Go(func() error {
			if err := e.puller.Pull(gctx, env, p.host, p.img); err != nil {
				e.log.Warn("prewarm pull failed", "env", env, "host", p.host.Name, "image", p.img.Ref, "err", err)
			}
			return nil
		})
	}
	_ = g.Wait()
}
