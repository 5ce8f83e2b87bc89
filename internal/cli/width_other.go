//go:build !unix

package cli

import "os"

// termWidth is 0 (unknown) where Drover does not ask the terminal; Width
// then falls back to $COLUMNS.
func termWidth(*os.File) int { return 0 }

// termHeight is 0 (unknown) where Drover does not ask the terminal; Height
// then falls back to $LINES.
func termHeight(*os.File) int { return 0 }
