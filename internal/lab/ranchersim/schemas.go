package ranchersim

import (
	"net/http"
	"sort"
	"strings"
)

// schemas serves a generated schemas collection for the types the simulator serves:
// enough for clients that discover collection and action URLs, not Cattle's full set.
func (s *Server) schemas(w http.ResponseWriter, r *http.Request, rc *rctx, self string, rest []string) {
	base := self + "/schemas"
	build := func(id string) map[string]any {
		sc := map[string]any{"id": id, "type": "schema", "baseType": "schema",
			"links": map[string]any{"self": base + "/" + id}, "actions": map[string]any{},
			"resourceMethods": []any{"GET"}, "collectionMethods": []any{"GET"},
			"resourceFields": map[string]any{}, "resourceActions": map[string]any{},
			"collectionFilters": map[string]any{}, "pluralName": id + "s"}
		coll := strings.ToLower(id) + "s"
		if k, ok := kinds[coll]; ok {
			sc["links"].(map[string]any)["collection"] = self + "/" + coll
			for f, typ := range k.filters {
				sc["collectionFilters"].(map[string]any)[f] = map[string]any{"modifiers": modifiers[typ]}
			}
		}
		if id == "service" {
			sc["resourceMethods"] = []any{"GET", "PUT", "DELETE"}
			acts := sc["resourceActions"].(map[string]any)
			for _, a := range serviceActionNames {
				in := any(nil)
				switch a {
				case "upgrade":
					in = "serviceUpgrade"
				case "restart":
					in = "serviceRestart"
				}
				acts[a] = map[string]any{"input": in, "output": "service"}
			}
		}
		if id == "genericObject" {
			sc["resourceMethods"] = []any{"GET", "PUT", "DELETE"}
			sc["collectionMethods"] = []any{"GET", "POST"}
		}
		if id == "subscribe" {
			sc["collectionFilters"] = map[string]any{"eventNames": map[string]any{"modifiers": []any{"eq"}}}
			sc["links"].(map[string]any)["collection"] = self + "/subscribe"
		}
		return sc
	}
	ids := []string{"project", "stack", "service", "host", "instance", "container", "serviceUpgrade",
		"inServiceUpgradeStrategy", "subscribe", "genericObject"}
	sort.Strings(ids)
	if len(rest) == 1 {
		for _, id := range ids {
			if id == rest[0] {
				writeJSON(w, http.StatusOK, build(id))
				return
			}
		}
		writeErr(w, errNotFound())
		return
	}
	if len(rest) > 1 {
		writeErr(w, errNotFound())
		return
	}
	var data []any
	for _, id := range ids {
		data = append(data, build(id))
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "collection", "resourceType": "schema",
		"links": map[string]any{"self": base}, "createTypes": map[string]any{}, "actions": map[string]any{},
		"data": data})
}
