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

// TestHelpTexts: finish describes its own flags, not apply's, and --lock
// reads as in prewarm (one text, cli.LockUsage).
func TestHelpTexts(t *testing.T) {
	t.Parallel()
	help := func(cmd string) string {
		var out, errb bytes.Buffer
		if code := cli.Main(t.Context(), "rollout", commands(), []string{cmd, "--help"}, &out, &errb); code != cli.ExitOK {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		return errb.String()
	}
	fin := help("finish")
	for _, apply := range []string{"upgraded and healthy", "apply: within one wave", "in-flight services get to come to rest", "its lock is"} {
		if strings.Contains(fin, apply) {
			t.Errorf("finish --help says %q, which is apply's:\n%s", apply, fin)
		}
	}
	for _, cmd := range []string{"apply", "rollback", "finish", "status", "plan"} {
		if h := help(cmd); !strings.Contains(h, "--lock string") || !strings.Contains(h, cli.LockUsage) {
			t.Errorf("%s --help: --lock does not read %q:\n%s", cmd, cli.LockUsage, h)
		}
		if h := help(cmd); cmd != "finish" && !strings.Contains(h, cli.ReleaseUsage) {
			t.Errorf("%s --help: -f does not read %q:\n%s", cmd, cli.ReleaseUsage, h)
		}
	}
}
