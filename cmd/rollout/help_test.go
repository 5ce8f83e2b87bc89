package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/rollout"
)

// TestHelpFlags: each command's --help lists the flags it acts on and no
// other: finish and rollback take none of apply's pre-flight, finish-mode
// or resume flags, and say that --env is required.
func TestHelpFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd        string
		want, not  []string
		envUsage   string
		usageWords string
	}{
		{cmd: "apply", want: []string{"--on-pending", "--finish", "--on-interrupt", "--resume", "--soak", "--gate-timeout", "--prewarm", "--journal"}, envUsage: "(default: all)"},
		{cmd: "rollback", want: []string{"--gate-timeout", "--prewarm", "--soak", "--upgrade-timeout", "--journal"}, not: []string{"--on-pending", "--finish string", "--on-interrupt", "--resume"}, envUsage: "(required)"},
		{cmd: "finish", want: []string{"--upgrade-timeout", "--drain-timeout", "--journal"}, not: []string{"--on-pending", "--finish string", "--on-interrupt", "--resume", "--soak", "--gate-timeout", "--prewarm"}, envUsage: "(required)"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			if code := cli.Main(t.Context(), "rollout", commands(), []string{tt.cmd, "--help"}, &out, &errb); code != cli.ExitOK {
				t.Fatalf("exit %d", code)
			}
			help := errb.String()
			for _, f := range tt.want {
				if !strings.Contains(help, f) {
					t.Errorf("%s --help lacks %s", tt.cmd, f)
				}
			}
			for _, f := range tt.not {
				if strings.Contains(help, f) {
					t.Errorf("%s --help lists %s, which it ignores", tt.cmd, f)
				}
			}
			if !strings.Contains(help, "--env strings") || !strings.Contains(help, tt.envUsage) {
				t.Errorf("%s --help: --env should say %s:\n%s", tt.cmd, tt.envUsage, help)
			}
		})
	}
}

// TestProgressUnknownBatch: the live table shows a batch it does not know
// as ?/N, never as batch 0.
func TestProgressUnknownBatch(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b, true, slog.New(slog.DiscardHandler))
	p.Event(rollout.Event{Env: "dev", Service: "web/a", Step: "upgrade", State: "upgrading", Batches: 3})
	p.Close()
	if !strings.Contains(b.String(), "?/3") || strings.Contains(b.String(), "0/3") {
		t.Errorf("live table:\n%s\nwant batch ?/3", b.String())
	}
}

// TestProgressLogLinesAboveTable: a log line while the live table is up
// clears the table, lands above it, and the table is drawn again below.
func TestProgressLogLinesAboveTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b, true, slog.New(slog.DiscardHandler))
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
	q := newProgress(&off, false, slog.New(slog.DiscardHandler))
	_, _ = q.Write([]byte("plain\n"))
	if off.String() != "plain\n" {
		t.Errorf("off a terminal: %q, want the line as is", off.String())
	}
}
