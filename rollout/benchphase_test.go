package rollout_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rollout"
)

// phaseLog times a rollout's phases from the engine's progress events (the
// times they already carry) and, for comparison, the simulator's own times
// of reaching upgraded and active, so the time the engine takes to learn of
// a state change (Rancher's event publishing) is told apart from Rancher's
// pacing (batches x interval, health checks).
type phaseLog struct {
	ctx  context.Context
	sims map[string]*ranchersim.Service // env + " " + service key

	mu   sync.Mutex
	envs map[string]*envTimes
	svcs map[string]*svcTimes
}

type envTimes struct{ gate, ended time.Time }

// svcTimes are one service's phase transitions: upgrade sent, the
// simulator upgraded, the engine seeing upgraded, healthy (the soak's
// start), finish sent, the simulator active, the engine seeing it (done).
type svcTimes struct {
	env                                                              string
	upgrade, simUpgraded, upgraded, healthy, finish, simActive, done time.Time
}

// watchPhases hooks a phaseLog into f's progress events.
func watchPhases(ctx context.Context, f *fleet) *phaseLog {
	p := &phaseLog{ctx: ctx, sims: map[string]*ranchersim.Service{}, envs: map[string]*envTimes{}, svcs: map[string]*svcTimes{}}
	for env, ss := range f.svcs {
		for i, s := range ss {
			p.sims[env+" web/"+f.name(i)] = s
		}
	}
	f.onEvent = p.event
	return p
}

// event runs serialized by the engine, on its goroutine: it only stamps
// times (the simulator waits run apart).
func (p *phaseLog) event(ev rollout.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	et := p.envs[ev.Env]
	if et == nil {
		et = &envTimes{}
		p.envs[ev.Env] = et
	}
	switch {
	case ev.Step == "gate" && et.gate.IsZero():
		et.gate = ev.Time
		return
	case ev.Step == "ended":
		et.ended = ev.Time
		return
	case ev.Service == "":
		return
	}
	key := ev.Env + " " + ev.Service
	st := p.svcs[key]
	if st == nil {
		st = &svcTimes{env: ev.Env}
		p.svcs[key] = st
	}
	switch {
	case ev.Step == "upgrade" && strings.Contains(ev.Message, " -> "):
		st.upgrade = ev.Time
		p.simWait(key, "upgraded", &st.simUpgraded)
	case ev.Step == "verify" && strings.HasPrefix(ev.Message, "soak "):
		st.upgraded = ev.Time
	case ev.Step == "verify" && strings.HasPrefix(ev.Message, "healthy;"):
		st.healthy = ev.Time
	case ev.Step == "finish" && st.finish.IsZero(): // later ones are observations
		st.finish = ev.Time
		p.simWait(key, "active", &st.simActive)
	case ev.Step == "done":
		st.done = ev.Time
	}
}

// simWait stamps *at when the simulator's service reaches state. The
// event comes before the engine's request, so the wait sees the state
// the request leads to.
func (p *phaseLog) simWait(key, state string, at *time.Time) {
	sim := p.sims[key]
	if sim == nil {
		return
	}
	go func() {
		if sim.WaitState(p.ctx, state) == nil {
			now := time.Now()
			p.mu.Lock()
			*at = now
			p.mu.Unlock()
		}
	}()
}

// phases is a rollout's time, split. Per-service figures are means over the
// services; the wall figures add up across the (sequential) waves.
type phases struct {
	services int
	// Per service, mean seconds.
	upgrade  float64 // upgrade sent -> the engine sees upgraded
	pacing   float64 // upgrade sent -> the simulator is upgraded (batches x interval, health checks)
	eventLag float64 // the simulator upgraded or active -> the engine sees it
	health   float64 // upgraded -> healthy
	soak     float64 // healthy -> finish sent
	finish   float64 // finish sent -> the engine sees active
	// Wall seconds, summed over environments.
	gate   float64 // the gate's start -> the first upgrade sent
	inWait float64 // some service is between upgrade sent and done (waiting on Rancher or the soak)
	engine float64 // the rest of the rollout: no service waits (gate, listing, pre-flight, between waves)
}

// split computes the phases of a rollout that took wall.
func (p *phaseLog) split(wall time.Duration) phases {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ph phases
	lags := 0
	type span struct{ from, to time.Time }
	perEnv := map[string][]span{}
	for _, st := range p.svcs {
		if st.upgrade.IsZero() || st.done.IsZero() {
			continue
		}
		ph.services++
		ph.upgrade += st.upgraded.Sub(st.upgrade).Seconds()
		ph.health += st.healthy.Sub(st.upgraded).Seconds()
		ph.soak += st.finish.Sub(st.healthy).Seconds()
		ph.finish += st.done.Sub(st.finish).Seconds()
		if !st.simUpgraded.IsZero() && !st.simActive.IsZero() {
			lags++
			ph.pacing += st.simUpgraded.Sub(st.upgrade).Seconds()
			ph.eventLag += st.upgraded.Sub(st.simUpgraded).Seconds() + st.done.Sub(st.simActive).Seconds()
		}
		perEnv[st.env] = append(perEnv[st.env], span{st.upgrade, st.done})
	}
	for env, spans := range perEnv {
		slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
		if et := p.envs[env]; et != nil && !et.gate.IsZero() {
			ph.gate += spans[0].from.Sub(et.gate).Seconds()
		}
		cur := spans[0]
		for _, s := range spans[1:] {
			if s.from.After(cur.to) {
				ph.inWait += cur.to.Sub(cur.from).Seconds()
				cur = s
				continue
			}
			if s.to.After(cur.to) {
				cur.to = s.to
			}
		}
		ph.inWait += cur.to.Sub(cur.from).Seconds()
	}
	if n := float64(ph.services); n > 0 {
		ph.upgrade, ph.health, ph.soak, ph.finish = ph.upgrade/n, ph.health/n, ph.soak/n, ph.finish/n
	}
	if lags > 0 {
		ph.pacing, ph.eventLag = ph.pacing/float64(lags), ph.eventLag/float64(lags)
	}
	ph.engine = wall.Seconds() - ph.inWait
	return ph
}
