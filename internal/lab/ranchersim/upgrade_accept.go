package ranchersim

import (
	"net/http"
	"strings"
	"time"
)

// noneImage is ServiceConstants.IMAGE_NONE: a sidekick upgraded to it is removed.
const noneImage = "rancher/none"

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

	// As Cattle's ServiceUpgradeValidationFilter: the current primary and ALL current
	// secondary configs are saved as previous (sidekick-only upgrades included); the
	// configs sent get one fresh version; the strategy keeps the finalized configs
	// (the primary, new or unchanged, and every sidekick: the ones sent, then the
	// unchanged ones), minus sidekicks whose image is rancher/none.
	version := newUUID()
	stored := cloneMap(in)
	stored["type"] = "inServiceUpgradeStrategy"
	stored["batchSize"] = st.batchSize
	stored["intervalMillis"] = st.interval.Milliseconds()
	stored["startFirst"] = st.startFirst
	stored["previousLaunchConfig"] = cloneMap(svc.launchConfig)
	prevSecs := []any{}
	for _, cur := range svc.secondary {
		prevSecs = append(prevSecs, cloneMap(cur))
	}
	if newLC != nil {
		lc := cloneMap(newLC)
		lc["version"] = version
		svc.launchConfig = lc
	}
	stored["launchConfig"] = cloneMap(svc.launchConfig)
	final := []map[string]any{}
	sent := map[string]bool{}
	for _, sec := range newSecs {
		name, _ := sec["name"].(string)
		sent[name] = true
		if isNoneImage(sec["imageUuid"]) {
			continue
		}
		lc := cloneMap(sec)
		lc["version"] = version
		final = append(final, lc)
	}
	for _, cur := range svc.secondary {
		if name, _ := cur["name"].(string); !sent[name] {
			final = append(final, cur)
		}
	}
	svc.secondary = final
	storedSecs := []any{}
	for _, lc := range final {
		storedSecs = append(storedSecs, cloneMap(lc))
	}
	stored["secondaryLaunchConfigs"] = storedSecs
	stored["previousSecondaryLaunchConfigs"] = prevSecs
	svc.upgrade = map[string]any{"type": "serviceUpgrade", "inServiceStrategy": stored, "toServiceStrategy": nil}
	return st, nil
}

// isNoneImage reports whether a sidekick's imageUuid asks for its removal: Cattle
// compares it with "rancher/none"; the docker: form is accepted too.
func isNoneImage(v any) bool {
	s, _ := v.(string)
	return strings.EqualFold(s, noneImage) || strings.EqualFold(s, "docker:"+noneImage)
}

// restorePreviousLocked puts the last upgrade's previous configs back on the service
// (rollback), as Cattle does: the previous primary and the previous secondary configs,
// wholesale. Called with s.mu held.
func (s *Server) restorePreviousLocked(svc *Service) {
	in, _ := svc.upgrade["inServiceStrategy"].(map[string]any)
	if in == nil {
		return
	}
	if prev, ok := in["previousLaunchConfig"].(map[string]any); ok {
		svc.launchConfig = cloneMap(prev)
	}
	prevSecs, ok := in["previousSecondaryLaunchConfigs"].([]any)
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, x := range prevSecs {
		if m, ok := x.(map[string]any); ok {
			out = append(out, cloneMap(m))
		}
	}
	svc.secondary = out
}
