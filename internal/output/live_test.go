package output_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/rollout"
)

// TestRolloutLiveUnknownBatch: the live table shows a batch it does not know
// as ?/N, never as batch 0.
func TestRolloutLiveUnknownBatch(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := output.NewRolloutLive(&b, true, slog.New(slog.DiscardHandler))
	p.Event(rollout.Event{Env: "dev", Service: "web/a", Step: "upgrade", State: "upgrading", Batches: 3})
	p.Close()
	if !strings.Contains(b.String(), "?/3") || strings.Contains(b.String(), "0/3") {
		t.Errorf("live table:\n%s\nwant batch ?/3", b.String())
	}
}

// TestRolloutLiveLogLinesAboveTable: a log line while the live table is up
// clears the table, lands above it, and the table is drawn again below.
func TestRolloutLiveLogLinesAboveTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := output.NewRolloutLive(&b, true, slog.New(slog.DiscardHandler))
	p.Event(rollout.Event{Env: "dev", Service: "web/a", Step: "upgrade", State: "upgrading"})
	first := b.Len()
	if _, err := p.Write([]byte("level=WARN msg=interrupted\n")); err != nil {
		t.Fatal(err)
	}
	got := b.String()[first:]
	const clear = "\x1b[2A\x1b[J" // the header and one row
	if !strings.HasPrefix(got, clear+"level=WARN msg=interrupted\nENV ") || !strings.Contains(got, "web/a") {
		t.Errorf("after a log line: %q, want the table cleared, the line, then the table again", got)
	}
	p.Close()
	var off bytes.Buffer
	q := output.NewRolloutLive(&off, false, slog.New(slog.DiscardHandler))
	_, _ = q.Write([]byte("plain\n"))
	if off.String() != "plain\n" {
		t.Errorf("off a terminal: %q, want the line as is", off.String())
	}
}
