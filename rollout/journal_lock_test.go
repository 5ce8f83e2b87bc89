//go:build unix

package rollout_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/rollout"
)

// TestJournalExclusive: a second run on the same journal fails at once,
// naming the file, instead of interleaving its entries with the first's.
func TestJournalExclusive(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	first, err := rollout.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := rollout.OpenJournal(path)
	if !errors.Is(err, rollout.ErrJournalInUse) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "another run") {
		t.Fatalf("second OpenJournal = %v, want ErrJournalInUse naming %s", err, path)
	}
	if second != nil {
		t.Fatal("second OpenJournal returned a journal")
	}
	if err := first.Record(rollout.Entry{Run: "r1", Action: "run-start"}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := rollout.OpenJournal(path)
	if err != nil {
		t.Fatalf("OpenJournal after the first run closed: %v", err)
	}
	again.Close()
}

// TestJournalRefusesSymlink: the journal is never written through a
// symbolic link (someone else's file would be appended to).
func TestJournalRefusesSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "journal.jsonl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	j, err := rollout.OpenJournal(link)
	if err == nil {
		_ = j.Record(rollout.Entry{Run: "r1", Action: "run-start"})
		j.Close()
		t.Fatal("OpenJournal followed a symbolic link")
	}
	if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error = %v, want it to say symbolic link", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("link target changed: %q", b)
	}
}
