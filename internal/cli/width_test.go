package cli

import (
	"bytes"
	"testing"
)

// TestSizeFromEnv: off a terminal, the size comes from $COLUMNS and $LINES,
// else 0 (unknown). t.Setenv: not parallel.
func TestSizeFromEnv(t *testing.T) {
	for _, tt := range []struct {
		columns, lines string
		wantW, wantH   int
	}{
		{"120", "40", 120, 40},
		{"", "", 0, 0},
		{"wide", "-3", 0, 0},
	} {
		t.Setenv("COLUMNS", tt.columns)
		t.Setenv("LINES", tt.lines)
		var b bytes.Buffer
		if w, h := TermSize(&b); w != tt.wantW || h != tt.wantH {
			t.Errorf("COLUMNS=%q LINES=%q: %dx%d, want %dx%d", tt.columns, tt.lines, w, h, tt.wantW, tt.wantH)
		}
	}
}
