package ranchersim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Pagination limits, as in Cattle.
const (
	DefaultLimit = 100
	MaxLimit     = 3000
)

// kind describes one collection: its resource type, filterable fields (name -> field
// type: string, int, date, ref, bool) and how to list and find its objects.
type kind struct {
	resourceType string
	prefix       string
	filters      map[string]string
	list         func(scope []*Project) []any
	get          func(scope []*Project, id string) any // optional: finds what list hides
}

func (k *kind) find(scope []*Project, id string) any {
	if !strings.HasPrefix(id, k.prefix) {
		return nil
	}
	if k.get != nil {
		return k.get(scope, id)
	}
	for _, o := range k.list(scope) {
		if objID(o) == id {
			return o
		}
	}
	return nil
}

func objID(o any) string {
	switch x := o.(type) {
	case *Project:
		return x.id
	case *Stack:
		return x.id
	case *Service:
		return x.id
	case *Host:
		return x.id
	case *container:
		return x.id
	case *genericObject:
		return x.id
	}
	return ""
}

var modifiers = map[string][]string{
	"string": {"eq", "ne", "prefix", "like", "notlike", "null", "notnull"},
	// istring is a string whose eq filter ignores case: a project's name
	// (ProjectResourceManager.listInternal compares with equalsIgnoreCase).
	"istring": {"eq", "ne", "prefix", "like", "notlike", "null", "notnull"},
	"int":     {"eq", "ne", "lt", "lte", "gt", "gte", "null", "notnull"},
	"date":    {"eq", "ne", "lt", "lte", "gt", "gte", "null", "notnull"},
	"ref":     {"eq", "ne", "null", "notnull"},
	"bool":    {"eq", "ne", "null", "notnull"},
}

func fields(spec string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(spec) {
		name, typ, _ := strings.Cut(f, ":")
		m[name] = typ
	}
	return m
}

var kinds = map[string]*kind{
	"projects": {resourceType: "project", prefix: "1a",
		filters: fields("created:date description:string externalId:string healthState:string id:ref kind:string name:istring removeTime:date removed:date state:string uuid:string"),
		list:    func(scope []*Project) []any { return anySlice(scope) }},
	"stacks": {resourceType: "stack", prefix: "1st",
		filters: fields("accountId:ref created:date description:string externalId:string group:string healthState:string id:ref kind:string name:string removeTime:date removed:date state:string system:bool uuid:string"),
		list: func(scope []*Project) []any {
			var out []any
			for _, p := range scope {
				out = append(out, anySlice(p.stacks)...)
			}
			return out
		}},
	"services": {resourceType: "service", prefix: "1s",
		filters: fields("accountId:ref createIndex:int created:date description:string externalId:string healthState:string id:ref kind:string name:string removeTime:date removed:date selectorContainer:string selectorLink:string skip:bool stackId:ref state:string system:bool uuid:string vip:string"),
		list: func(scope []*Project) []any {
			var out []any
			for _, p := range scope {
				out = append(out, anySlice(p.services)...)
			}
			return out
		}},
	"hosts": {resourceType: "host", prefix: "1h",
		filters: fields("accountId:ref agentState:string agentIpAddress:string created:date description:string hostname:string id:ref kind:string name:string removeTime:date removed:date state:string uuid:string"),
		list: func(scope []*Project) []any {
			var out []any
			for _, p := range scope {
				out = append(out, anySlice(p.hosts)...)
			}
			return out
		}},
	"instances":      instancesKind("instance"),
	"containers":     instancesKind("container"),
	"genericobjects": genericObjectsKind,
}

func instancesKind(rt string) *kind {
	return &kind{resourceType: rt, prefix: "1i",
		filters: fields("accountId:ref created:date deploymentUnitUuid:string description:string externalId:string healthState:string hostId:ref id:ref imageUuid:string kind:string name:string removeTime:date removed:date stackId:ref state:string uuid:string version:string"),
		list: func(scope []*Project) []any {
			var out []any
			for _, p := range scope {
				out = append(out, anySlice(p.containers)...)
			}
			return out
		}}
}

func anySlice[T any](xs []T) []any {
	out := make([]any, 0, len(xs))
	for _, x := range xs {
		out = append(out, x)
	}
	return out
}

type condition struct {
	field, modifier string
	value           *string
}

// collection writes a collection envelope: filters, sort and pagination applied.
func (s *Server) collection(w http.ResponseWriter, r *http.Request, rc *rctx, k *kind, objs []any, self string) {
	q := r.URL.Query()
	var conds []condition
	filterOut := map[string]any{}
	for f := range k.filters {
		filterOut[f] = nil
	}
	keys := make([]string, 0, len(q))
	for key := range q {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		field, mod := key, "eq"
		if i := strings.LastIndex(key, "_"); i > 0 {
			field, mod = key[:i], key[i+1:]
		}
		typ, ok := k.filters[field]
		if !ok || !contains(modifiers[typ], mod) {
			continue
		}
		var list []any
		for _, v := range q[key] {
			c := condition{field: field, modifier: mod}
			if v != "" || (mod != "null" && mod != "notnull") {
				vv := v
				c.value = &vv
			}
			conds = append(conds, c)
			list = append(list, map[string]any{"modifier": mod, "value": optStr(c.value)})
		}
		if prev, ok := filterOut[field].([]any); ok {
			list = append(prev, list...)
		}
		filterOut[field] = list
	}

	s.mu.Lock()
	items := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		items = append(items, rc.render(o))
	}
	s.mu.Unlock()
	items = filterItems(items, conds, k.filters)

	sortField, order := q.Get("sort"), q.Get("order")
	var sortOut any
	if _, ok := k.filters[sortField]; ok {
		sort.SliceStable(items, func(i, j int) bool {
			less := lessValue(items[i][sortField], items[j][sortField])
			if order == "desc" {
				return lessValue(items[j][sortField], items[i][sortField])
			}
			return less
		})
		if order != "desc" {
			order = "asc"
		}
		rev := "desc"
		if order == "desc" {
			rev = "asc"
		}
		sortOut = map[string]any{"name": sortField, "order": order, "reverse": withQuery(self, q, "order", rev)}
	} else {
		sort.SliceStable(items, func(i, j int) bool {
			return idNum(fmt.Sprint(items[i]["id"])) < idNum(fmt.Sprint(items[j]["id"]))
		})
	}
	sortLinks := map[string]any{}
	for f := range k.filters {
		sortLinks[f] = withQuery(self, q, "sort", f)
	}

	limit := DefaultLimit
	if v := q.Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			limit = n
		}
	}
	if limit <= 0 || limit > MaxLimit {
		limit = MaxLimit
	}
	offset := 0
	if m := q.Get("marker"); strings.HasPrefix(m, "m") {
		if n, err := strconv.Atoi(m[1:]); err == nil && n > 0 {
			offset = n
		}
	}
	offset = min(offset, len(items))
	end := min(offset+limit, len(items))
	page := items[offset:end]
	var next any
	partial := end < len(items)
	if partial {
		next = withQuery(self, q, "marker", "m"+strconv.Itoa(end))
	}
	data := make([]any, 0, len(page))
	for _, it := range page {
		data = append(data, it)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "collection", "resourceType": k.resourceType,
		"links":       map[string]any{"self": self},
		"createTypes": map[string]any{}, "actions": map[string]any{},
		"pagination": map[string]any{"first": nil, "previous": nil, "next": next, "limit": limit,
			"total": nil, "partial": partial},
		"sort": sortOut, "sortLinks": sortLinks, "filters": filterOut, "createDefaults": map[string]any{},
		"data": data,
	})
}

// withQuery returns self with the request's query, key set to value (key "" keeps it).
func withQuery(self string, q url.Values, key, value string) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	if key != "" {
		c.Set(key, value)
	}
	if len(c) == 0 {
		return self
	}
	return self + "?" + c.Encode()
}

func filterItems(items []map[string]any, conds []condition, types map[string]string) []map[string]any {
	out := items[:0:0]
	for _, it := range items {
		if matchAll(it, conds, types) {
			out = append(out, it)
		}
	}
	return out
}

func matchAll(it map[string]any, conds []condition, types map[string]string) bool {
	// Several eq conditions on one field match any of their values; all else is ANDed.
	eqs := map[string][]string{}
	for _, c := range conds {
		v, _ := it[c.field]
		if c.modifier == "eq" && c.value != nil {
			eqs[c.field] = append(eqs[c.field], *c.value)
			continue
		}
		if !match(v, c, types[c.field]) {
			return false
		}
	}
	for f, vals := range eqs {
		s, isNull := str(it[f])
		if isNull || !slices.ContainsFunc(vals, func(v string) bool { return s == v || types[f] == "istring" && strings.EqualFold(s, v) }) {
			return false
		}
	}
	return true
}

func str(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, false
	case json.Number:
		return x.String(), false
	default:
		return fmt.Sprint(x), false
	}
}

func match(v any, c condition, typ string) bool {
	s, isNull := str(v)
	switch c.modifier {
	case "null":
		return isNull
	case "notnull":
		return !isNull
	}
	if c.value == nil {
		return false
	}
	want := *c.value
	switch c.modifier {
	case "eq":
		return !isNull && (s == want || typ == "istring" && strings.EqualFold(s, want))
	case "ne":
		return isNull || s != want
	case "prefix":
		return !isNull && strings.HasPrefix(s, want)
	case "like", "notlike":
		re := likeRegexp(want)
		m := !isNull && re.MatchString(s)
		if c.modifier == "like" {
			return m
		}
		return !isNull && !m
	case "lt", "lte", "gt", "gte":
		if isNull {
			return false
		}
		cmp := compare(s, want, typ)
		switch c.modifier {
		case "lt":
			return cmp < 0
		case "lte":
			return cmp <= 0
		case "gt":
			return cmp > 0
		default:
			return cmp >= 0
		}
	}
	return false
}

func compare(a, b, typ string) int {
	if typ == "int" {
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 == nil && err2 == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(a, b)
}

func lessValue(a, b any) bool {
	x, xn := str(a)
	y, yn := str(b)
	if xn || yn {
		return xn && !yn
	}
	if fx, err := strconv.ParseFloat(x, 64); err == nil {
		if fy, err := strconv.ParseFloat(y, 64); err == nil {
			return fx < fy
		}
	}
	if idNum(x) > 0 && idNum(y) > 0 && strings.TrimRight(x, "0123456789") == strings.TrimRight(y, "0123456789") {
		return idNum(x) < idNum(y)
	}
	return x < y
}

// likeRegexp turns an SQL LIKE pattern (% any run, _ one character) into a regexp.
func likeRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
