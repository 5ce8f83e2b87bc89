package shown

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a long message", 10, "a long ..."},
		{"line\nbreak\x1b[2J", 64, "line break [2J"},
		{"ééééé", 6, "é..."}, // 10 bytes; the cut falls inside a rune
		{"abcdef", 1, "a..."},
	} {
		got := Clip(tc.in, tc.n)
		if got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if len(got) > max(tc.n, 4) || !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q: over the bound or not UTF-8", tc.in, tc.n, got)
		}
	}
	if got := Clip(strings.Repeat("x", 1<<20), 512); len(got) != 512 {
		t.Errorf("Clip of 1 MiB to 512: %d bytes", len(got))
	}
}
