package clitest

import (
	"reflect"
	"testing"
)

func TestCommands(t *testing.T) {
	t.Parallel()
	text := "rollout: environment dev: gate closed\n" +
		"run: prewarm pull -c '/tmp/my hosts.yaml' -f rel.yaml --hosts dev-01,dev-02   # dev: or rerun with --prewarm\n" +
		"     rollout finish -c hosts.yaml --env dev --service web/a   # or: rollout rollback -c hosts.yaml --env dev --service web/a\n" +
		"pre-flight: keep it: `rollout finish --env dev --service web/a`, or go back: `rollout rollback --env dev --service web/a`\n" +
		"not a command: xrollout plan, rollout plans\n" +
		"old form: rollout -c hosts.yaml status --env dev\n"
	got, err := Commands(text)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"prewarm", "pull", "-c", "/tmp/my hosts.yaml", "-f", "rel.yaml", "--hosts", "dev-01,dev-02"},
		{"rollout", "finish", "-c", "hosts.yaml", "--env", "dev", "--service", "web/a"},
		{"rollout", "rollback", "-c", "hosts.yaml", "--env", "dev", "--service", "web/a"},
		{"rollout", "finish", "--env", "dev", "--service", "web/a"},
		{"rollout", "rollback", "--env", "dev", "--service", "web/a"},
		{"rollout", "-c", "hosts.yaml", "status", "--env", "dev"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Commands:\n got %q\nwant %q", got, want)
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		`a 'b c' "d \"e\"" f\ g`: {"a", "b c", `d "e"`, "f g"},
		`'it'\''s' # comment`:    {"it's"},
		`a#b`:                    {"a#b"},
	} {
		if got, err := Split(in); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Split(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := Split(bad); err == nil {
			t.Errorf("Split(%q): no error", bad)
		}
	}
}
