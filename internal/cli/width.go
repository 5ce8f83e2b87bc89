package cli

import (
	"io"
	"os"
	"strconv"
)

// Width is the width in columns of the terminal w writes to: asked of the
// terminal, else $COLUMNS, else 0 (unknown: do not fit lines).
func Width(w io.Writer) int { return termSize(w, termWidth, "COLUMNS") }

// Height is the height in lines of the terminal w writes to: asked of the
// terminal, else $LINES, else 0 (unknown: do not fit tables).
func Height(w io.Writer) int { return termSize(w, termHeight, "LINES") }

// termSize asks the terminal w writes to (ask), else reads the variable
// env, else is 0.
func termSize(w io.Writer, ask func(*os.File) int, env string) int {
	if f, ok := w.(*os.File); ok {
		if n := ask(f); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
		return n
	}
	return 0
}
