package ranchersim

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// stateActions is the service state table: action -> states it is allowed from.
var stateActions = map[string][]string{
	"activate":        {"inactive", "restarting"},
	"deactivate":      {"active", "activating", "restarting", "updating-active", "updating-inactive"},
	"upgrade":         {"active", "activating", "inactive", "updating-active"},
	"finishupgrade":   {"upgraded"},
	"rollback":        {"upgrading", "upgraded", "canceled-upgrade"},
	"cancelupgrade":   {"upgrading", "finishing-upgrade"},
	"continueupgrade": {"canceled-upgrade"},
	"restart":         {"active"},
}

// Service actions the simulator accepts without acting on them (service links) and the
// update action (a scale change), offered where Cattle offers them.
var linkActions = []string{"addservicelink", "removeservicelink", "setservicelinks"}

// serviceActionNames is every action in the service schema.
var serviceActionNames = []string{"activate", "addservicelink", "cancelupgrade", "continueupgrade",
	"deactivate", "finishupgrade", "remove", "removeservicelink", "restart", "rollback",
	"setservicelinks", "update", "upgrade"}

// allowedActions lists the actions allowed in the service's current state.
// Called with s.mu held.
func (svc *Service) allowedActions() []string {
	st := svc.state
	if st == "removing" || st == "removed" || st == "registering" {
		return nil
	}
	var out []string
	for _, a := range serviceActionNames {
		switch {
		case a == "remove":
			out = append(out, a)
		case a == "update":
			if st == "active" || st == "inactive" {
				out = append(out, a)
			}
		case slices.Contains(linkActions, a):
			out = append(out, a)
		case slices.Contains(stateActions[a], st):
			out = append(out, a)
		}
	}
	return out
}

func (svc *Service) allows(action string) bool {
	return slices.Contains(svc.allowedActions(), action)
}

// serviceAction handles POST .../services/{id}/?action=NAME.
func (s *Server) serviceAction(w http.ResponseWriter, rc *rctx, svc *Service, action string, body map[string]any) {
	if !slices.Contains(serviceActionNames, action) {
		writeErr(w, errInvalidAction())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.failAction; f != 0 {
		s.failAction = 0
		switch f {
		case http.StatusConflict:
			writeErr(w, errConflict())
		case http.StatusUnprocessableEntity:
			writeErr(w, errActionNotAvailable())
		default:
			writeErr(w, errStatus(f))
		}
		return
	}
	if !svc.allows(action) {
		s.opts.logger.Debug("action not available", "service", svc.id, "action", action, "state", svc.state)
		writeErr(w, errActionNotAvailable())
		return
	}
	s.opts.logger.Debug("action", "service", svc.id, "action", action, "state", svc.state)
	switch action {
	case "upgrade":
		st, aerr := s.acceptUpgradeLocked(svc, body)
		if aerr != nil {
			writeErr(w, aerr)
			return
		}
		svc.strategy = st
		s.startProcess(svc, "upgrading", s.runUpgrade(svc))
	case "continueupgrade":
		s.startProcess(svc, "upgrading", s.runUpgrade(svc))
	case "rollback":
		s.restorePreviousLocked(svc)
		s.startProcess(svc, "rolling-back", s.runRollback(svc))
	case "finishupgrade":
		s.startProcess(svc, "finishing-upgrade", s.runFinish(svc))
	case "cancelupgrade":
		s.startProcess(svc, "canceling-upgrade", s.runSetState(svc, "canceled-upgrade"))
	case "activate":
		s.startProcess(svc, "activating", s.runActivate(svc, "active"))
	case "deactivate":
		s.startProcess(svc, "deactivating", s.runStopAll(svc, false, "inactive"))
	case "remove":
		s.startProcess(svc, "removing", s.runStopAll(svc, true, "removed"))
	case "restart":
		st, aerr := parseRestart(body)
		if aerr != nil {
			writeErr(w, aerr)
			return
		}
		s.startProcess(svc, "restarting", s.runRestart(svc, st))
	case "update":
		if aerr := s.updateLocked(svc, body); aerr != nil {
			writeErr(w, aerr)
			return
		}
	default: // service link actions: accepted, nothing to simulate
	}
	writeJSON(w, http.StatusAccepted, rc.service(svc))
}

// updateLocked applies a service update (PUT or ?action=update). Only scale is acted
// on; a change of scale runs a reconcile in updating-active / updating-inactive.
func (s *Server) updateLocked(svc *Service, body map[string]any) *apiError {
	v, ok := body["scale"]
	if !ok || v == nil {
		return nil
	}
	n, isNum := intValue(v)
	if !isNum {
		return errField(http.StatusUnprocessableEntity, "InvalidFormat", "scale")
	}
	if n < 0 {
		return errField(http.StatusUnprocessableEntity, "MinLimitExceeded", "scale")
	}
	if n == svc.scale {
		return nil
	}
	switch svc.state {
	case "active":
		svc.scale = n
		s.startProcess(svc, "updating-active", s.runActivate(svc, "active"))
	case "inactive":
		svc.scale = n
		s.startProcess(svc, "updating-inactive", s.runActivate(svc, "inactive"))
	default:
		return errConflict()
	}
	return nil
}

func parseRestart(body map[string]any) (strategy, *apiError) {
	st := strategy{batchSize: 1, interval: 2 * time.Second}
	rs, _ := body["rollingRestartStrategy"].(map[string]any)
	if rs == nil {
		return st, nil
	}
	if v, ok := rs["batchSize"]; ok && v != nil {
		n, ok := intValue(v)
		if !ok {
			return st, errField(http.StatusUnprocessableEntity, "InvalidFormat", "batchSize")
		}
		if n < 1 {
			return st, errField(http.StatusUnprocessableEntity, "MinLimitExceeded", "batchSize")
		}
		st.batchSize = n
	}
	if v, ok := rs["intervalMillis"]; ok && v != nil {
		n, ok := intValue(v)
		if !ok {
			return st, errField(http.StatusUnprocessableEntity, "InvalidFormat", "intervalMillis")
		}
		if n < 100 {
			return st, errField(http.StatusUnprocessableEntity, "MinLimitExceeded", "intervalMillis")
		}
		st.interval = time.Duration(n) * time.Millisecond
	}
	return st, nil
}

func intValue(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			f, ferr := x.Float64()
			if ferr != nil || f != float64(int64(f)) {
				return 0, false
			}
			n = int64(f)
		}
		return int(n), true
	case float64:
		return int(x), x == float64(int(x))
	case int:
		return x, true
	}
	return 0, false
}
