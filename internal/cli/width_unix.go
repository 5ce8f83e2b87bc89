//go:build unix

package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// termWidth asks the terminal f for its width (TIOCGWINSZ); 0 if f is no
// terminal.
func termWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

// termHeight asks the terminal f for its height in lines; 0 if f is no
// terminal.
func termHeight(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Row)
}
