package cli

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf(t *testing.T) {
	t.Parallel()
	bi := func(version string, kv ...string) *debug.BuildInfo {
		b := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/drover-dev/drover", Version: version}}
		for i := 0; i+1 < len(kv); i += 2 {
			b.Settings = append(b.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return b
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"release", bi("v1.2.0"), true, "rollout v1.2.0 module github.com/drover-dev/drover go1.26.0"},
		{"checkout", bi("(devel)", "vcs.revision", "abc123", "vcs.time", "2025-06-01T02:00:00Z", "vcs.modified", "false"), true,
			"rollout (devel) commit abc123 (2025-06-01T02:00:00Z) module github.com/drover-dev/drover go1.26.0"},
		{"dirty", bi("", "vcs.revision", "abc123", "vcs.modified", "true"), true, "rollout (devel) commit abc123+modified module github.com/drover-dev/drover go1.26.0"},
		{"none", nil, false, "rollout (no build info)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := versionOf("rollout", tt.bi, tt.ok); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMainVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--version", "version"} {
		var stdout, stderr bytes.Buffer
		var ran []string
		code := Main(t.Context(), "prewarm", testCommands(&ran), []string{arg}, &stdout, &stderr)
		if code != ExitOK || !strings.HasPrefix(stdout.String(), "prewarm ") || !strings.Contains(stdout.String(), " go1.") || len(ran) != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, stdout.String(), stderr.String())
		}
	}
}
