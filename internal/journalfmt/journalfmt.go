// Package journalfmt is the format of rollout's journal (rollout apply
// --journal): one JSON object per line, appended as the engine acts. The
// rollout engine writes it; prewarm prune reads it for the images a
// rollback would restart. A leaf package, so readers need not import the
// engine.
package journalfmt

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Entry is one journal line: an action the engine took, with its time.
type Entry struct {
	Time    time.Time `json:"time"`
	Run     string    `json:"run"`
	Env     string    `json:"env,omitempty"`
	Service string    `json:"service,omitempty"`
	// Action is one of run-start, run-end, gate-open, gated, pending-finish,
	// pending-rollback, upgrade, upgraded, verified, finish, finished,
	// rollback, rolled-back, skip, not-ours, failed.
	Action string `json:"action"`
	// From is the image the service ran before the run touched it (what a
	// rollback restarts); To is the image the run upgrades it to.
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	State string `json:"state,omitempty"`
	Error string `json:"error,omitempty"`
}

// MaxLine is the longest line Read accepts.
const MaxLine = 4 << 20

// Read reads every entry from r; name (the file) goes into errors. A torn
// last line (a crash mid-write) is ignored; a bad line followed by more
// lines is corruption, an error naming its line.
func Read(r io.Reader, name string) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), MaxLine)
	line := 0
	var bad error
	for sc.Scan() {
		line++
		if bad != nil {
			return nil, bad
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			bad = fmt.Errorf("journal %s line %d: %w", name, line, err)
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("journal %s line %d: longer than %d bytes: not a rollout journal", name, line+1, MaxLine)
		}
		return nil, fmt.Errorf("journal %s: %w", name, err)
	}
	return out, nil
}
