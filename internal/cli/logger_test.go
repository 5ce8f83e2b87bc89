package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// keysOnce decodes one JSON object and fails on a key seen twice at any
// level (encoding/json keeps the last silently).
func keysOnce(line string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	var walk func() (any, error)
	walk = func() (any, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok {
		case json.Delim('{'):
			m := map[string]any{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := k.(string)
				if _, dup := m[key]; dup {
					return nil, fmt.Errorf("duplicate key %q", key)
				}
				if m[key], err = walk(); err != nil {
					return nil, err
				}
			}
			_, err := dec.Token() // '}'
			return m, err
		case json.Delim('['):
			var l []any
			for dec.More() {
				v, err := walk()
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
		return tok, nil
	}
	v, err := walk()
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trailing data after the object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object: %s", line)
	}
	return m, nil
}

func TestLoggerKeysOnce(t *testing.T) {
	t.Parallel()
	if _, err := keysOnce(`{"msg":"a","msg":"b"}`); err == nil {
		t.Fatal("keysOnce misses a duplicate key")
	}
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log, err := NewLogger(&buf, format, "info")
		if err != nil {
			t.Fatal(err)
		}
		// As cmd/rollout's progress lines did: an attribute named msg.
		log.With("level", "x").Info("rollout", "env", "dev", "msg", "soak 30s", "time", "now", slog.Group("g", "msg", "inner"))
		line := strings.TrimSpace(buf.String())
		if format == "text" {
			if strings.Count(line, " msg=") != 1 || !strings.Contains(line, `message="soak 30s"`) {
				t.Errorf("text: %s", line)
			}
			continue
		}
		m, err := keysOnce(line)
		if err != nil {
			t.Fatalf("json: %v: %s", err, line)
		}
		if m["msg"] != "rollout" || m["message"] != "soak 30s" || m["time_"] != "now" || m["level_"] != "x" || m["level"] != "INFO" {
			t.Errorf("json: %s", line)
		}
	}
}
