package cli

import (
	"io"
	"os"
	"strconv"
)

// TermSize is the size of the terminal w writes to, in columns and lines,
// asked of the terminal once (one TIOCGWINSZ for both), else each from
// $COLUMNS and $LINES, else 0 (unknown: do not fit lines or tables).
func TermSize(w io.Writer) (width, height int) {
	if f, ok := w.(*os.File); ok {
		width, height = termSize(f)
	}
	if width <= 0 {
		width = envSize("COLUMNS")
	}
	if height <= 0 {
		height = envSize("LINES")
	}
	return width, height
}

// envSize is the positive number in the variable env, else 0.
func envSize(env string) int {
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
		return n
	}
	return 0
}
