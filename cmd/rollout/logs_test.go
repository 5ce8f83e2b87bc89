package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
)

// TestLabLogs: --log-level debug shows the Rancher client's requests (the
// lease store's too) and never a key; a failed apply logs the service's
// failure at WARN and the environment's at ERROR, not at INFO.
func TestLabLogs(t *testing.T) {
	c := newLabCLI(t)
	var secrets []string
	for _, kv := range c.l.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.Contains(k, "KEY") && v != "" {
			secrets = append(secrets, v)
		}
	}
	if len(secrets) == 0 {
		t.Fatal("the lab gave no keys to look for")
	}
	quick := []string{"--soak", "0s", "--upgrade-timeout", "3s", "--log-level", "debug"}
	code, stdout, stderr := c.run(t, append([]string{"apply", "-f", c.rel, "--prewarm"}, quick...)...)
	if code != cli.ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`level=DEBUG msg="rancher request" method=GET path=/v2-beta/\S+ query=\S* status=200`),
		regexp.MustCompile(`level=DEBUG msg="rancher request" method=POST path=\S+ query="action=upgrade" status=20\d`),
		regexp.MustCompile(`level=DEBUG msg="rancher lease request" method=\w+ path=\S+/genericobjects\S* status=20\d`),
	} {
		if !want.MatchString(stderr) {
			t.Errorf("debug log lacks %s:\n%s", want, stderr)
		}
	}
	for _, s := range secrets {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("a Rancher key is in the output:\n%s", stderr)
		}
	}

	if code, stdout, stderr = c.run(t, append([]string{"rollback", "--env", "dev", "-f", c.rel}, quick...)...); code != cli.ExitOK {
		t.Fatalf("rollback: exit %d\n%s%s", code, stdout, stderr)
	}
	if err := c.l.Inject(lab.Fault{Target: "rancher", Action: "never-healthy", Arg: "*"}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = c.run(t, "apply", "-f", c.rel, "--soak", "0s", "--upgrade-timeout", "3s")
	if code != cli.ExitFailed {
		t.Fatalf("apply of a never-healthy release: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"level=WARN msg=rollout env=dev step=failed service=web/svc01",
		"level=ERROR msg=rollout env=dev step=ended state=failed",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("failed apply's log lacks %q:\n%s", want, stderr)
		}
	}
	if regexp.MustCompile(`level=INFO msg=rollout .*step=(failed|ended state=failed)`).MatchString(stderr) {
		t.Errorf("a failure is logged at INFO:\n%s", stderr)
	}
}
