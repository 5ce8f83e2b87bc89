package rancher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// LaunchConfig is a launch config kept as a raw JSON object: every key in
// the server's order with its value unparsed, so fields this package does
// not know about survive a round trip unchanged. The zero value is an
// empty object.
type LaunchConfig struct {
	keys []string
	vals map[string]json.RawMessage
}

// UnmarshalJSON keeps each value raw and the keys in order (a duplicate key
// keeps its first position and last value, like encoding/json).
func (lc *LaunchConfig) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("launch config: want a JSON object, got %v", tok)
	}
	lc.keys, lc.vals = nil, map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("launch config key %q: %w", k, err)
		}
		if _, dup := lc.vals[k]; !dup {
			lc.keys = append(lc.keys, k)
		}
		lc.vals[k] = v
	}
	_, err = dec.Token() // '}'
	return err
}

// MarshalJSON writes the keys in their original order, values byte for byte.
func (lc LaunchConfig) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range lc.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(lc.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Keys returns the keys in order. The read methods (Keys, Get, GetString,
// Name, ImageUUID, Image, Labels) treat a nil *LaunchConfig as empty.
func (lc *LaunchConfig) Keys() []string {
	if lc == nil {
		return nil
	}
	return append([]string(nil), lc.keys...)
}

// Get returns the raw value of key.
func (lc *LaunchConfig) Get(key string) (json.RawMessage, bool) {
	if lc == nil {
		return nil, false
	}
	v, ok := lc.vals[key]
	return v, ok
}

// GetString returns the value of key if it is a JSON string, else "".
func (lc *LaunchConfig) GetString(key string) string {
	var s string
	if v, ok := lc.Get(key); ok && json.Unmarshal(v, &s) == nil {
		return s
	}
	return ""
}

// Set sets key to the JSON encoding of v, keeping its position if present.
func (lc *LaunchConfig) Set(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("launch config key %q: %w", key, err)
	}
	if lc.vals == nil {
		lc.vals = map[string]json.RawMessage{}
	}
	if _, ok := lc.vals[key]; !ok {
		lc.keys = append(lc.keys, key)
	}
	lc.vals[key] = b
	return nil
}

// Clone returns a deep copy (nil for nil).
func (lc *LaunchConfig) Clone() *LaunchConfig {
	if lc == nil {
		return nil
	}
	c := &LaunchConfig{keys: append([]string(nil), lc.keys...), vals: make(map[string]json.RawMessage, len(lc.vals))}
	for k, v := range lc.vals {
		c.vals[k] = append(json.RawMessage(nil), v...)
	}
	return c
}

// Name is the sidekick name of a secondary launch config ("" for the primary).
func (lc *LaunchConfig) Name() string { return lc.GetString("name") }

// ImageUUID is the raw imageUuid, e.g. "docker:registry/app:1.4".
func (lc *LaunchConfig) ImageUUID() string { return lc.GetString("imageUuid") }

// Image is imageUuid without its "docker:" prefix.
func (lc *LaunchConfig) Image() string { return strings.TrimPrefix(lc.ImageUUID(), "docker:") }

// SetImage sets imageUuid to "docker:" + ref.
func (lc *LaunchConfig) SetImage(ref string) error {
	ref = strings.TrimPrefix(ref, "docker:")
	if ref == "" || strings.ContainsAny(ref, " \t\n") {
		return fmt.Errorf("invalid image reference %q", ref)
	}
	return lc.Set("imageUuid", "docker:"+ref)
}

// Labels returns the labels (nil when absent or not a string map).
func (lc *LaunchConfig) Labels() map[string]string {
	var m map[string]string
	if v, ok := lc.Get("labels"); ok {
		if err := json.Unmarshal(v, &m); err != nil {
			return nil
		}
	}
	return m
}

var errNoLaunchConfig = errors.New("service has no launchConfig")
