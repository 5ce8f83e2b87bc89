//go:build !unix

package cli

import "os"

// termSize is 0, 0 (unknown) where Drover does not ask the terminal;
// TermSize then falls back to $COLUMNS and $LINES.
func termSize(*os.File) (width, height int) { return 0, 0 }
