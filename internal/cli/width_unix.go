//go:build unix

package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// termSize asks the terminal f for its columns and lines (TIOCGWINSZ);
// 0, 0 if f is no terminal.
func termSize(f *os.File) (width, height int) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0
	}
	return int(ws.Col), int(ws.Row)
}
