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

// checkEnvName reports a variable name that is not one ([A-Za-z_][A-Za-z0-9_]*):
// most likely a pasted secret, so the message names the key, never the value.
func checkEnvName(key, name string) error {
	if name != "" && !envVarRE.MatchString(name) {
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
