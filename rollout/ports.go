package rollout

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrStartFirstConflict means the inventory insists on startFirst
// (strategy.startFirstServices) for a service that publishes a host port
// and has no spare host to start its new container on. Cattle would leave
// the upgrade in transitioning: error ("host needs ports ... available"), so
// pre-flight refuses before any write; it is a configuration error.
var ErrStartFirstConflict = errors.New("startFirst cannot place the new container")

// portConflict says why s cannot be upgraded start-first: it publishes host
// ports and every host that may run it already runs one of its containers
// (a published host port puts at most one per host), so no host is free to
// start the new container while the old one holds the port. "" when it can.
//
// The hosts that may run it are the active ones its hard host-label rules
// allow (io.rancher.scheduler.affinity:host_label and host_label_ne, as
// Cattle's allocator applies them: CanRun). A global service
// (io.rancher.scheduler.global=true) runs one container on each of them,
// whatever its scale, so it never has a spare host.
func portConflict(s Service, hosts []Host) string {
	if len(s.HostPorts) == 0 {
		return ""
	}
	eligible := 0
	for _, h := range hosts {
		if h.State == StateActive && CanRun(s.Labels, h.Labels) {
			eligible++
		}
	}
	ports := strings.Join(s.HostPorts, ", ")
	if strings.EqualFold(strings.TrimSpace(s.Labels[labelGlobal]), "true") {
		return fmt.Sprintf("publishes host port %s and is global (%s): it runs on each of the %d host(s) it may run on, none is free to start the new container first",
			ports, labelGlobal, eligible)
	}
	if eligible > s.Scale {
		return ""
	}
	return fmt.Sprintf("publishes host port %s and its %d container(s) fill all %d active host(s) %s: none is free to start the new container first",
		ports, s.Scale, eligible, hostsWord(s.Labels))
}

// labelGlobal marks a Rancher 1.6 global service: one container on every
// host it may run on.
const labelGlobal = "io.rancher.scheduler.global"

// hostsWord qualifies "active host(s)" when scheduling labels narrow them.
func hostsWord(labels map[string]string) string {
	if labels[labelHostAffinity] == "" && labels[labelHostAntiAff] == "" {
		return "it may run on"
	}
	return "its host_label scheduling rules allow"
}

// strategyFor is the strategy s is upgraded with, and why it differs from
// the environment's: a service that cannot start first upgrades
// stop-first, unless the inventory insists (then the error, wrapping
// ErrStartFirstConflict).
func strategyFor(t EnvTarget, s Service, hosts []Host) (Strategy, string, error) {
	st := t.Strategy
	if !st.StartFirst {
		return st, "", nil
	}
	why := portConflict(s, hosts)
	if why == "" {
		return st, "", nil
	}
	if slices.Contains(st.StartFirstServices, s.Key()) {
		return st, "", fmt.Errorf("%w: %s %s, and strategy.startFirstServices insists on startFirst for it: add a host, lower its scale, or remove it from startFirstServices (it then upgrades stop-first)",
			ErrStartFirstConflict, s.Key(), why)
	}
	st.StartFirst = false
	return st, "stop-first: " + why, nil
}

// planPorts sets each planned service's effective startFirst, and flags a
// conflict with the inventory's insistence.
func planPorts(p *EnvPlan, t EnvTarget, byKey map[string]Service, hosts []Host) {
	for i := range p.Services {
		sp := &p.Services[i]
		cur, ok := byKey[sp.Service]
		if !ok {
			continue
		}
		st, why, err := strategyFor(t, cur, hosts)
		sp.StartFirst = st.StartFirst
		sp.Note = why
		if err != nil {
			sp.Note = "conflict: " + err.Error()
		}
	}
}

// StartFirstCell is the plan table's START-FIRST cell: yes or no, and why
// when the plan differs from the strategy.
func (s ServicePlan) StartFirstCell() string {
	out := "no"
	if s.StartFirst {
		out = "yes"
	}
	if s.Note != "" {
		out += " (" + s.Note + ")"
	}
	return out
}

// portsOK is pre-flight's check of the service's strategy: a conflict the
// inventory insists on fails it before any write.
func (er *envRun) portsOK(s *svcRun) bool {
	if _, _, err := strategyFor(er.t, s.last(), er.hosts); err != nil {
		er.fail(s, fmt.Errorf("pre-flight: %w", err))
		return false
	}
	return true
}

// strategy is the strategy s is upgraded with; a switch to stop-first is
// logged and shown.
func (er *envRun) strategy(s *svcRun) Strategy {
	st, why, _ := strategyFor(er.t, s.last(), er.hosts)
	if why != "" {
		er.e.log.Warn("upgrading stop-first", "env", er.t.Name, "service", s.target.Service, "why", why)
		er.e.emit(Event{Env: er.t.Name, Service: s.target.Service, Step: "upgrade", Message: "upgrading " + why})
		s.mu.Lock()
		s.note = "upgraded " + why
		s.mu.Unlock()
	}
	return st
}

// Is lets a caller tell a failure that is a start-first conflict (a
// configuration error: nothing was written) from others: reports carry
// causes as text.
func (f *Failure) Is(target error) bool {
	return target == ErrStartFirstConflict && strings.Contains(f.Cause, "pre-flight: "+ErrStartFirstConflict.Error())
}
