package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/drover-dev/drover/internal/journalfmt"
)

// Entry is one journal line: an action the engine took, with its time.
// Its format is journalfmt's, which readers outside the engine share.
type Entry = journalfmt.Entry

// Journal appends entries as JSON lines to a file, synced line by line so a
// crash loses at most the action in progress. Safe for concurrent use.
type Journal struct {
	mu  sync.Mutex
	f   *os.File
	now func() time.Time
}

// ErrJournalInUse is wrapped by OpenJournal's error when another run holds
// the journal.
var ErrJournalInUse = errors.New("journal in use by another run")

// OpenJournal opens (creating or appending to) a journal file and takes an
// exclusive lock on it, held until Close, so two runs never interleave
// their entries: a second run's OpenJournal fails at once with
// ErrJournalInUse. A symbolic link at path is refused, not followed. The
// file is 0644 less the umask.
func OpenJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY|oNoFollow, 0o644)
	if err != nil {
		if isSymlink(path) {
			return nil, fmt.Errorf("open journal: %s is a symbolic link: name the file itself", path)
		}
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, ErrJournalInUse) {
			return nil, fmt.Errorf("open journal %s: %w: wait for that run to end, or give this one another --journal", path, err)
		}
		return nil, fmt.Errorf("open journal %s: lock: %w", path, err)
	}
	return &Journal{f: f, now: time.Now}, nil
}

func isSymlink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// Record appends one entry (Time is set when zero).
func (j *Journal) Record(e Entry) error {
	if e.Time.IsZero() {
		e.Time = j.now().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.f.Name(), err)
	}
	return j.f.Sync()
}

// Close closes the file, releasing its lock.
func (j *Journal) Close() error { return j.f.Close() }

// ReadJournal reads every entry of a journal file; a missing file is no
// entries. A torn last line (a crash mid-write) is ignored.
func ReadJournal(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	return journalfmt.Read(f, path)
}

// resumeState is what an earlier run did, per env/service.
type resumeState struct {
	finished map[string]string // env/stack/name -> image finished to
	started  map[string]string // env/stack/name -> image an upgrade was started to
}

func newResumeState(entries []Entry) *resumeState {
	r := &resumeState{finished: map[string]string{}, started: map[string]string{}}
	for _, e := range entries {
		k := e.Env + "/" + e.Service
		switch e.Action {
		case "upgrade":
			r.started[k] = e.To
			delete(r.finished, k)
		case "finished":
			r.finished[k] = e.To
			delete(r.started, k)
		case "rolled-back", "pending-rollback":
			delete(r.started, k)
			delete(r.finished, k)
		}
	}
	return r
}

func (r *resumeState) finishedTo(env, svc string) string {
	if r == nil {
		return ""
	}
	return r.finished[env+"/"+svc]
}

func (r *resumeState) startedTo(env, svc string) string {
	if r == nil {
		return ""
	}
	return r.started[env+"/"+svc]
}
