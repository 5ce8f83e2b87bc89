package ranchersim

import (
	"net/http"
	"time"
)

const noneImage = "docker:rancher/none"

// acceptUpgradeLocked validates an upgrade body the way Cattle does (schema limits,
// then the upgrade validation filter), then copies the current configs into previous*,
// replaces the service's configs with the new ones (each with a fresh version) and
// stores the ServiceUpgrade. Called with s.mu held.
func (s *Server) acceptUpgradeLocked(svc *Service, body map[string]any) (strategy, *apiError) {
	st := strategy{batchSize: 1, interval: 2 * time.Second}
	in, _ := body["inServiceStrategy"].(map[string]any)
	to, _ := body["toServiceStrategy"].(map[string]any)
	if in != nil {
		if v, ok := in["batchSize"]; ok && v != nil {
			n, ok := intValue(v)
			if !ok {
				return st, errField(http.StatusUnprocessableEntity, "InvalidFormat", "batchSize")
			}
			if n < 1 {
				return st, errField(http.StatusUnprocessableEntity, "MinLimitExceeded", "batchSize")
			}
			st.batchSize = n
		}
		if v, ok := in["intervalMillis"]; ok && v != nil {
			n, ok := intValue(v)
			if !ok {
				return st, errField(http.StatusUnprocessableEntity, "InvalidFormat", "intervalMillis")
			}
			if n < 100 {
				return st, errField(http.StatusUnprocessableEntity, "MinLimitExceeded", "intervalMillis")
			}
			st.interval = time.Duration(n) * time.Millisecond
		}
		if v, ok := in["startFirst"]; ok && v != nil {
			b, ok := v.(bool)
			if !ok {
				return st, errField(http.StatusUnprocessableEntity, "InvalidFormat", "startFirst")
			}
			st.startFirst = b
		}
	}
	if in == nil && to == nil {
		return st, errField(http.StatusUnprocessableEntity, "MissingRequired", "Upgrade strategy needs to be set")
	}
	if in == nil {
		return st, errField(http.StatusUnprocessableEntity, "InvalidOption",
			"toServiceStrategy is not supported by the simulator; use inServiceStrategy")
	}
	newLC, _ := in["launchConfig"].(map[string]any)
	newSecs := []map[string]any{}
	if arr, ok := in["secondaryLaunchConfigs"].([]any); ok {
		for _, x := range arr {
			if m, ok := x.(map[string]any); ok {
				newSecs = append(newSecs, m)
			}
		}
	}
	if newLC == nil && len(newSecs) == 0 {
		return st, errField(http.StatusUnprocessableEntity, "InvalidOption",
			"LaunchConfig/secondaryLaunchConfigs need to be specified for inService strategy")
	}
	if st.startFirst && svc.retainIP != nil && *svc.retainIP {
		return st, errField(http.StatusUnprocessableEntity, "InvalidOption",
			"StartFirst option can't be used for service with retainIp field set")
	}

	stored := cloneMap(in)
	stored["type"] = "inServiceUpgradeStrategy"
	stored["batchSize"] = st.batchSize
	stored["intervalMillis"] = st.interval.Milliseconds()
	stored["startFirst"] = st.startFirst
	stored["previousLaunchConfig"] = nil
	if newLC != nil {
		stored["previousLaunchConfig"] = cloneMap(svc.launchConfig)
		lc := cloneMap(newLC)
		lc["version"] = newUUID()
		svc.launchConfig = lc
		stored["launchConfig"] = cloneMap(lc)
	}
	prevSecs := []any{}
	storedSecs := []any{}
	for _, sec := range newSecs {
		name, _ := sec["name"].(string)
		idx := -1
		for i, cur := range svc.secondary {
			if n, _ := cur["name"].(string); n == name {
				idx = i
				prevSecs = append(prevSecs, cloneMap(cur))
			}
		}
		lc := cloneMap(sec)
		if lc["imageUuid"] == noneImage {
			if idx >= 0 {
				svc.secondary = append(svc.secondary[:idx], svc.secondary[idx+1:]...)
			}
			storedSecs = append(storedSecs, lc)
			continue
		}
		lc["version"] = newUUID()
		if idx >= 0 {
			svc.secondary[idx] = lc
		} else {
			svc.secondary = append(svc.secondary, lc)
		}
		storedSecs = append(storedSecs, cloneMap(lc))
	}
	stored["secondaryLaunchConfigs"] = storedSecs
	stored["previousSecondaryLaunchConfigs"] = prevSecs
	svc.upgrade = map[string]any{"type": "serviceUpgrade", "inServiceStrategy": stored, "toServiceStrategy": nil}
	return st, nil
}

// restorePreviousLocked puts the last upgrade's previous configs back on the service
// (rollback). Sidekicks the upgrade added are dropped. Called with s.mu held.
func (s *Server) restorePreviousLocked(svc *Service) {
	in, _ := svc.upgrade["inServiceStrategy"].(map[string]any)
	if in == nil {
		return
	}
	if prev, ok := in["previousLaunchConfig"].(map[string]any); ok {
		svc.launchConfig = cloneMap(prev)
	}
	prevSecs, _ := in["previousSecondaryLaunchConfigs"].([]any)
	prevByName := map[string]map[string]any{}
	for _, x := range prevSecs {
		if m, ok := x.(map[string]any); ok {
			n, _ := m["name"].(string)
			prevByName[n] = m
		}
	}
	upgraded := map[string]bool{}
	if secs, ok := in["secondaryLaunchConfigs"].([]any); ok {
		for _, x := range secs {
			if m, ok := x.(map[string]any); ok {
				n, _ := m["name"].(string)
				upgraded[n] = true
			}
		}
	}
	var out []map[string]any
	seen := map[string]bool{}
	for _, cur := range svc.secondary {
		n, _ := cur["name"].(string)
		seen[n] = true
		switch {
		case prevByName[n] != nil:
			out = append(out, cloneMap(prevByName[n]))
		case upgraded[n]: // added by the upgrade
		default:
			out = append(out, cur)
		}
	}
	for _, x := range prevSecs {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		if n, _ := m["name"].(string); !seen[n] {
			out = append(out, cloneMap(m)) // removed by the upgrade (rancher/none)
		}
	}
	if out == nil {
		out = []map[string]any{}
	}
	svc.secondary = out
}
