package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
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
