package output

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/drover-dev/drover/internal/atomicfile"
)

// JSON writes v to w as indented JSON.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Print writes v to w as JSON when asJSON (a command's --json), else as
// the table that table writes.
func Print(w io.Writer, asJSON bool, v any, table func(w io.Writer) error) error {
	if asJSON {
		return JSON(w, v)
	}
	return table(w)
}

// WriteJSON writes v as indented JSON to path atomically: readers (a CI
// job, node_exporter's textfile collector) see the old file or the new
// one, never half.
func WriteJSON(path string, v any) error {
	var buf bytes.Buffer
	if err := JSON(&buf, v); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}
