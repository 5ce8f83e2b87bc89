// Package shown makes text read from a server (Rancher's messages, a lease
// holder's fields) safe to show: one line, bounded, and nothing a terminal
// would obey.
package shown

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable replaces control characters (a newline, a terminal escape) with
// spaces: what is shown is one line of plain text.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// Clip shortens s to at most n bytes (on a rune boundary, "..." at the
// end when cut; n below 4 is taken as 4), then makes it Printable.
func Clip(s string, n int) string {
	n = max(n, 4)
	if len(s) > n {
		cut := n - 3
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return Printable(s)
}
