// Package clitest finds the commands the tools print for a human, so that
// tests can run them exactly as printed.
package clitest

import (
	"fmt"
	"regexp"
	"strings"
)

// commandStart is where a printed command starts: a tool, then one of its
// subcommands or a flag.
var commandStart = regexp.MustCompile(`(?:^|[\s` + "`" + `])((?:rollout|prewarm) (?:-|(?:validate|plan|apply|status|finish|rollback|unlock|pull|seed|prune|run|mirror)(?:\s|$)))`)

// Commands returns every command printed in text, split as a POSIX shell
// would split it (quotes, backslashes; an unquoted # starts a comment). A
// command ends at the end of its line, or at the closing backquote when
// it is quoted in backquotes. Each result starts with the tool's name.
func Commands(text string) ([][]string, error) {
	var out [][]string
	for _, line := range strings.Split(text, "\n") {
		for _, m := range commandStart.FindAllStringSubmatchIndex(line, -1) {
			start := m[2]
			cmd := line[start:]
			if start > 0 && line[start-1] == '`' {
				end := strings.IndexByte(cmd, '`')
				if end < 0 {
					return nil, fmt.Errorf("unclosed backquote in %q", line)
				}
				cmd = cmd[:end]
			}
			words, err := Split(cmd)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", cmd, err)
			}
			out = append(out, words)
		}
	}
	return out, nil
}

// Split splits s into words as a POSIX shell does, without expansions:
// single and double quotes, backslash escapes, and an unquoted # at the
// start of a word ends the line.
func Split(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case c == '#' && !inWord:
			return words, nil
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("trailing backslash")
			}
			i++
			w.WriteByte(s[i])
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unclosed single quote")
			}
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("unclosed double quote")
			}
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
