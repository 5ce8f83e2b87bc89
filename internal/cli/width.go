package cli

import (
	"io"
	"os"
	"strconv"
)

// Width is the width in columns of the terminal w writes to: asked of the
// terminal, else $COLUMNS, else 0 (unknown: do not fit lines).
func Width(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := termWidth(f); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}

// Height is the height in lines of the terminal w writes to: asked of the
// terminal, else $LINES, else 0 (unknown: do not fit tables).
func Height(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := termHeight(f); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("LINES")); err == nil && n > 0 {
		return n
	}
	return 0
}
