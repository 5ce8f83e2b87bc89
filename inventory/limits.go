package inventory

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Size limits on what the readers accept, so that a wrong or hostile file
// fails fast in bounded memory instead of driving the process out of it.
const (
	// MaxFileBytes bounds an inventory or release file (a 10,000-host
	// inventory is about 1 MiB).
	MaxFileBytes = 4 << 20
	// MaxLockBytes bounds a lock file (about 400 bytes per image).
	MaxLockBytes = 16 << 20
	// MaxDockerConfigBytes bounds a docker config.json named by
	// credentials.dockerConfig (a few KiB per registry).
	MaxDockerConfigBytes = 1 << 20
	// MaxKeyBytes bounds a mapping key (region, label, sidekick names and
	// the file's own keys).
	MaxKeyBytes = 253
	// MaxNameBytes bounds a name: hosts, images, services (a DNS name's
	// length).
	MaxNameBytes = 253
	// maxShown is how much of a value a message echoes.
	maxShown = 64
)

// readLimited reads all of r, or fails naming file when it holds more than
// max bytes; it never holds more than max+1 bytes.
func readLimited(r io.Reader, file string, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %s; is this the right file?", file, sizeString(max))
	}
	return data, nil
}

func sizeString(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// clip shortens a value for a message: at most maxShown bytes (on a rune
// boundary), then "...".
func clip(s string) string { return clipN(s, maxShown) }

// clipN shortens s to at most n bytes (on a rune boundary), ending in "...".
func clipN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// quote is %q of a clipped value.
func quote(s string) string { return fmt.Sprintf("%q", clip(s)) }

// someOf lists names for a message: the first ten (each clipped), then how
// many more.
func someOf(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(clip(n))
	}
	return b.String()
}

// checkEnvName reports a variable name that is not one ([A-Za-z_][A-Za-z0-9_]*),
// or that looks like a key (isEnvName): most likely a pasted secret, so the
// message names the key, never the value.
func checkEnvName(key, name string) error {
	if name != "" && !isEnvName(name) {
		return fmt.Errorf("the value of %s is not a variable name (the file holds names such as RANCHER_ACCESS_KEY, never secrets)", key)
	}
	return nil
}

// tooLong reports a name longer than MaxNameBytes.
func tooLong(what, s string) error {
	if len(s) > MaxNameBytes {
		return fmt.Errorf("%s %s is %d bytes long: at most %d", what, quote(strings.TrimSpace(s)), len(s), MaxNameBytes)
	}
	return nil
}

// isEnvName reports whether name is a variable name ([A-Za-z_][A-Za-z0-9_]*)
// that does not look like a key: a Rancher access key (20 hex digits,
// "A29007EA4B1C0D3F2E11") or secret key (40 letters and digits) is a
// valid name, and a file holding one must not have it echoed as "$... is
// not set". A key is taken to be a run of 16 or more letters and digits
// (between underscores) that switches between digits, upper and lower
// case at least once every 4 characters, as random text does, or that is
// upper case with 3 digits or more; names such as RANCHER_ACCESS_KEY,
// LAB_DEV1_SECRET_KEY or registryPassword2024 have no such run.
func isEnvName(name string) bool {
	if !envVarRE.MatchString(name) {
		return false
	}
	class := func(b byte) int {
		switch {
		case b >= '0' && b <= '9':
			return 0
		case b >= 'A' && b <= 'Z':
			return 1
		}
		return 2
	}
	for run := range strings.SplitSeq(name, "_") {
		if len(run) < 16 {
			continue
		}
		var switches, digits, lower int
		for i := range len(run) {
			c := class(run[i])
			if i > 0 && c != class(run[i-1]) {
				switches++
			}
			switch c {
			case 0:
				digits++
			case 2:
				lower++
			}
		}
		if switches*4 >= len(run) || lower == 0 && digits >= 3 {
			return false
		}
	}
	return true
}
