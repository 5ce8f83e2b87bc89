package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the work decoding one document may do (aliases can
// multiply it): an inventory of 10,000 hosts is about 50,000 nodes.
// MaxFileBytes bounds what is read at all.
const maxNodes = 200_000

// positions maps a key path written with indices ("environments[3].hosts[0].docker")
// to the line it was read from. A path is present only if the file set it
// (null counts as not set).
type positions map[string]int

// has reports whether the file set key.
func (p positions) has(key string) bool {
	_, ok := p[key]
	return ok
}

// line returns the line of key, or of its nearest ancestor the file set
// (a missing field is reported where its parent is).
func (p positions) line(key string) int {
	for {
		if l, ok := p[key]; ok {
			return l
		}
		if key == "" {
			return 0
		}
		key = parentKey(key)
	}
}

func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

// loc is a position in the document: key addresses list elements by index
// (stable, for positions), show by the element's name where it has one
// (for people: environments[dmz-eu].hosts[2].docker).
type loc struct{ key, show string }

func (l loc) field(name string) loc {
	if l.key == "" {
		return loc{name, name}
	}
	return loc{l.key + "." + name, l.show + "." + name}
}

func (l loc) index(i int, label string) loc {
	label = clip(label) // a name is repeated in every path below it
	if label == "" {
		label = strconv.Itoa(i)
	}
	return loc{l.key + "[" + strconv.Itoa(i) + "]", l.show + "[" + label + "]"}
}

// labelKey names the key that identifies an element of a list of t, so
// paths read environments[dmz-eu] rather than environments[4].
func labelKey(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Environment](), reflect.TypeFor[ReleaseImage]():
		return "name"
	case reflect.TypeFor[ReleaseService]():
		return "service"
	}
	return ""
}

// decoder decodes a yaml.Node tree into Go values strictly, collecting every
// problem as a *FieldError instead of stopping at the first.
type decoder struct {
	file  string
	errs  []error
	pos   positions
	nodes int
}

func (d *decoder) errorf(line int, l loc, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Path: l.show, Msg: fmt.Sprintf(format, args...)})
}

// parseDocument reads exactly one YAML document and returns its root node.
func parseDocument(r io.Reader, file string) (*yaml.Node, error) {
	data, err := readLimited(r, file, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{File: file, Line: 1, Msg: "empty file (want at least version: 1)"}
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, syntaxError(file, err)
		}
		return nil, &FieldError{File: file, Line: line, Msg: "more than one YAML document (---): want one"}
	}
	if len(doc.Content) == 0 {
		return nil, &FieldError{File: file, Line: 1, Msg: "empty file (want at least version: 1)"}
	}
	return doc.Content[0], nil
}

// syntaxError turns yaml.v3's "yaml: line 3: mapping values are not
// allowed" into "file:3: mapping values are not allowed".
func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l, after
			}
		}
	}
	return &FieldError{File: file, Line: line, Msg: "invalid YAML: " + clipN(msg, 256)}
}

// checkVersion reads the root's version key first: a file of another
// version would otherwise drown in unknown-key errors.
func checkVersion(root *yaml.Node, file string, want int) error {
	if root.Kind != yaml.MappingNode {
		return &FieldError{File: file, Line: root.Line, Msg: "want a mapping with version: " + strconv.Itoa(want) + ", got " + describe(root)}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "version" {
			continue
		}
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
			return &FieldError{File: file, Line: k.Line, Path: "version", Msg: fmt.Sprintf("want the integer %d, got %s", want, describe(v))}
		}
		if v.Value != strconv.Itoa(want) {
			return &FieldError{File: file, Line: k.Line, Path: "version", Msg: fmt.Sprintf("unsupported version %s (this Drover reads version %d)", short(v), want)}
		}
		return nil
	}
	return &FieldError{File: file, Line: root.Line, Path: "version", Msg: fmt.Sprintf("required (version: %d)", want)}
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, l loc) {
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errorf(n.Line, l, "document too large (aliases expand past %d nodes)", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		d.decode(n.Alias, v, l)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Tag != "" && n.Tag != "!" && !strings.HasPrefix(n.Tag, "!!") {
		d.errorf(n.Line, l, "unsupported tag %s", n.Tag)
		return
	}
	if v.Type() == reflect.TypeFor[Duration]() {
		d.duration(n, v, l)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), l)
		v.Set(p)
	case reflect.Struct:
		d.structure(n, v, l)
	case reflect.Slice:
		d.list(n, v, l)
	case reflect.Map:
		d.mapping(n, v, l)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!bool" || n.ShortTag() == "!!binary" {
			d.errorf(n.Line, l, "want a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.errorf(n.Line, l, "want an integer, got %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.errorf(n.Line, l, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	default:
		d.errorf(n.Line, l, "cannot decode into %s", v.Type())
	}
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, l loc) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.errorf(n.Line, l, "want a duration such as 90s or 30m, got %s", describe(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n.Line, l, "want a duration such as 90s or 30m, got %s", quote(n.Value))
		return
	}
	v.SetInt(int64(dur))
}

// pairs walks a mapping's key/value pairs, reporting non-string and
// duplicate keys and merge keys; fn gets each good pair.
func (d *decoder) pairs(n *yaml.Node, l loc, fn func(k, v *yaml.Node)) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			d.errorf(k.Line, l, "want a plain key, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.errorf(k.Line, l, "merge keys (<<) are not supported: use the defaults block")
			continue
		}
		if len(k.Value) > MaxKeyBytes {
			// Every path below a key repeats it: a huge key is refused
			// before it is copied.
			d.errorf(k.Line, l, "key %s is %d bytes long: at most %d", quote(k.Value), len(k.Value), MaxKeyBytes)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, l.field(k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k, val)
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, l loc) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, l, "want a mapping, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	d.pairs(n, l, func(k, val *yaml.Node) {
		fl := l.field(k.Value)
		idx, ok := fields.byName[k.Value]
		if !ok {
			d.errorf(k.Line, fl, "unknown key (want one of: %s)", strings.Join(fields.names, ", "))
			return
		}
		if isNull(val) {
			return
		}
		d.pos[fl.key] = k.Line
		d.decode(val, v.Field(idx), fl)
	})
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, l loc) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, l, "want a list, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		return
	}
	et := v.Type().Elem()
	lk := labelKey(et)
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		el := l.index(i, scalarAt(e, lk))
		d.pos[el.key] = e.Line
		d.decode(e, s.Index(i), el)
	}
	v.Set(s)
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, l loc) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, l, "want a mapping, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.pairs(n, l, func(k, val *yaml.Node) {
		fl := l.field(k.Value)
		d.pos[fl.key] = k.Line
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, fl)
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	})
	v.Set(m)
}

func isNull(n *yaml.Node) bool {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// scalarAt returns the scalar value of key in mapping n ("" if absent).
func scalarAt(n *yaml.Node, key string) string {
	if key == "" || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode && !isNull(n.Content[i+1]) {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// describe names a node's kind for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!bool":
			return "boolean " + short(n)
		case "!!int":
			return "integer " + short(n)
		case "!!float":
			return "number " + short(n)
		case "!!null":
			return "null"
		}
		return "string " + strconv.Quote(short(n))
	}
	return "nothing"
}

// short truncates a scalar for messages.
func short(n *yaml.Node) string { return clip(n.Value) }

type structFields struct {
	byName map[string]int
	names  []string
}

var fieldCache sync.Map // reflect.Type -> *structFields

// fieldsOf lists the yaml keys of a struct type (fields tagged "-" or
// unexported are not keys).
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		f.byName[name] = i
		f.names = append(f.names, name)
	}
	fieldCache.Store(t, f)
	return f
}
