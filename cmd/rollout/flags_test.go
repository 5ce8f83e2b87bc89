package main

import (
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
)

// TestFlagValues: a bad flag value is an exit-2 error naming the flag as
// typed, before anything changes (was: --service 'web/svc01=not a ref!!'
// planned and exited 0, a tagless --service meant :latest, and engine
// flags were named by their option, "WithSoak: ...").
func TestFlagValues(t *testing.T) {
	c := newLabCLI(t)
	tests := []struct {
		args []string
		want []string
		not  string
	}{
		{[]string{"plan", "--service", "web/svc01=not a ref!!"}, []string{`--service "web/svc01=not a ref!!"`, "invalid reference format"}, ""},
		{[]string{"plan", "--service", "web/svc01=" + c.region + "/app"}, []string{`--service "web/svc01=` + c.region + `/app"`, "needs a tag or digest (never an implicit :latest)"}, ""},
		{[]string{"plan", "--service", "x=app:1.0"}, []string{`--service "x=app:1.0": want stack/service=image`}, ""},
		{[]string{"apply", "-f", c.rel, "--soak", "-1s"}, []string{"--soak -1s: -1s is below 0s"}, "WithSoak"},
		{[]string{"apply", "-f", c.rel, "--gate-interval", "0s"}, []string{"--gate-interval 0s:"}, "WithGateInterval"},
		{[]string{"apply", "-f", c.rel, "--env-concurrency", "0"}, []string{"--env-concurrency 0:"}, "WithEnvConcurrency"},
		{[]string{"apply", "-f", c.rel, "--on-pending", "wait"}, []string{"--on-pending wait: want abort, finish or rollback"}, ""},
		{[]string{"finish", "--env", "dev", "--upgrade-timeout", "0s"}, []string{"--upgrade-timeout 0s:"}, "WithUpgradeTimeout"},
		{[]string{"rollback", "--env", "dev", "--drain-timeout", "-1m"}, []string{"--drain-timeout -1m0s:"}, "WithDrainTimeout"},
	}
	for _, tt := range tests {
		code, stdout, stderr := c.run(t, tt.args...)
		if code != cli.ExitUsage {
			t.Errorf("%q: exit %d, want 2\n%s%s", tt.args, code, stdout, stderr)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr lacks %q:\n%s", tt.args, w, stderr)
			}
		}
		if tt.not != "" && strings.Contains(stderr, tt.not) {
			t.Errorf("%q: stderr names the option %s, not the flag:\n%s", tt.args, tt.not, stderr)
		}
	}
	if state, img := c.image(t); state != "active" || img != c.region+"/app:1.0" {
		t.Errorf("after refused commands: service %s %s, want it untouched at app:1.0", state, img)
	}
}
