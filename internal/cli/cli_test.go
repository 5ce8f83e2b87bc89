package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func testCommands(ran *[]string) []*Command {
	return []*Command{{
		Name:    "go",
		Summary: "do the thing",
		Usage:   "tool go [flags]\n\nThe long story.",
		Flags:   func(fs *pflag.FlagSet) { fs.Bool("fast", false, "hurry") },
		Run: func(_ context.Context, env *Env, args []string) error {
			*ran = append(*ran, env.ConfigPath())
			switch {
			case len(args) == 1 && args[0] == "fail":
				return errors.New("it broke")
			case len(args) == 1 && args[0] == "human":
				return NeedsHuman(errors.New("stuck"))
			case len(args) > 0:
				return Usage("unexpected arguments %q", args)
			}
			return nil
		},
	}}
}

// Not parallel: t.Setenv (Main reads the real environment).
func TestMainHelpAndExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        string // DROVER_INVENTORY
		wantCode   int
		wantStderr []string // in this order
		wantRan    string   // the config path Run saw; "" when Run must not run
	}{
		{name: "no command", args: nil, wantCode: ExitUsage, wantStderr: []string{"Commands:", "go", "do the thing", "tool: no command given"}},
		{name: "unknown command", args: []string{"stop"}, wantCode: ExitUsage, wantStderr: []string{"Commands:", `tool: unknown command "stop"`}},
		{name: "help lists commands", args: []string{"--help"}, wantCode: ExitOK, wantStderr: []string{"Commands:", "go"}},
		{name: "command help: synopsis, summary, prose, flags", args: []string{"go", "--help"}, wantCode: ExitOK,
			wantStderr: []string{"Usage: tool go [flags]\n\ndo the thing\n\nThe long story.\n\nFlags:", "--fast", "--config", "--log-format"}},
		{name: "help COMMAND", args: []string{"help", "go"}, wantCode: ExitOK, wantStderr: []string{"Usage: tool go [flags]"}},
		{name: "bad flag", args: []string{"go", "--slow"}, wantCode: ExitUsage, wantStderr: []string{"unknown flag: --slow", "(see --help)"}},
		{name: "bad log level", args: []string{"go", "--log-level", "loud"}, wantCode: ExitUsage, wantStderr: []string{`--log-level "loud": want debug, info, warn or error`}},
		{name: "done", args: []string{"go"}, wantCode: ExitOK, wantRan: "hosts.yaml"},
		{name: "config from the environment", args: []string{"go"}, env: "/etc/drover/hosts.yaml", wantCode: ExitOK, wantRan: "/etc/drover/hosts.yaml"},
		{name: "config flag wins", args: []string{"go", "-c", "lab.yaml"}, env: "/etc/drover/hosts.yaml", wantCode: ExitOK, wantRan: "lab.yaml"},
		{name: "global flags before the command", args: []string{"-c", "lab.yaml", "--log-level", "debug", "go"}, wantCode: ExitOK, wantRan: "lab.yaml"},
		{name: "long global flag before the command", args: []string{"--config=lab.yaml", "go", "--fast"}, wantCode: ExitOK, wantRan: "lab.yaml"},
		{name: "a global flag after the command wins", args: []string{"-c", "lab.yaml", "go", "-c", "other.yaml"}, wantCode: ExitOK, wantRan: "other.yaml"},
		{name: "global flags then help", args: []string{"-c", "lab.yaml", "--help"}, wantCode: ExitOK, wantStderr: []string{"Commands:", "go"}},
		{name: "global flags then help COMMAND", args: []string{"-c", "lab.yaml", "help", "go"}, wantCode: ExitOK, wantStderr: []string{"Usage: tool go [flags]"}},
		{name: "global flags and no command", args: []string{"-c", "lab.yaml"}, wantCode: ExitUsage, wantStderr: []string{"tool: no command given"}},
		{name: "a command's flag before the command", args: []string{"--fast", "go"}, wantCode: ExitUsage, wantStderr: []string{"Commands:", "unknown flag: --fast"}},
		{name: "bad global value before the command", args: []string{"--log-level", "loud", "go"}, wantCode: ExitUsage, wantStderr: []string{`--log-level "loud"`}},
		{name: "failure", args: []string{"go", "fail"}, wantCode: ExitFailed, wantStderr: []string{"tool: it broke"}, wantRan: "hosts.yaml"},
		{name: "needs a human", args: []string{"go", "human"}, wantCode: ExitHuman, wantStderr: []string{"tool: stuck"}, wantRan: "hosts.yaml"},
		{name: "usage error from Run", args: []string{"go", "x", "y"}, wantCode: ExitUsage, wantStderr: []string{`unexpected arguments ["x" "y"]`}, wantRan: "hosts.yaml"},
		{name: "the last word as JSON", args: []string{"go", "fail", "--log-format", "json"}, wantCode: ExitFailed,
			wantStderr: []string{`{"time":`, `"level":"ERROR","msg":"failed","tool":"tool","err":"it broke","exit":1}`}, wantRan: "hosts.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DROVER_INVENTORY", tt.env)
			var ran []string
			var stdout, stderr bytes.Buffer
			code := Main(t.Context(), "tool", testCommands(&ran), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			rest := stderr.String()
			for _, w := range tt.wantStderr {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stderr lacks %q (in order); stderr:\n%s", w, stderr.String())
					break
				}
				rest = rest[i+len(w):]
			}
			if got := strings.Join(ran, ","); got != tt.wantRan {
				t.Errorf("Run saw config %q, want %q", got, tt.wantRan)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing (results only)", stdout.String())
			}
		})
	}
}
