// Package cli is the one convention both tools follow: global flags
// (-c/--config, --json, --log-format, --log-level), how the inventory is found
// (--config, else $DROVER_INVENTORY, else ./hosts.yaml), subcommand dispatch,
// and exit codes that mean the same in prewarm and rollout.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes, the same in both tools.
const (
	ExitOK     = 0 // all done
	ExitFailed = 1 // some work failed (the rest was done); the report names what
	ExitUsage  = 2 // usage or configuration error: nothing was changed
	ExitHuman  = 3 // failed and could not be put back: needs a human
	ExitBusy   = 4 // another run holds the environment (or the job): nothing was changed
)

// ExitError carries an exit code through a command's error return.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Usage returns an error that exits 2.
func Usage(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// BadFlag is the usage error (exit 2) for a flag whose value err rejects,
// named as the operator typed it: "--soak -1s: -1s is below 0s". err's own
// prefix (the option or field that refused, "WithSoak: ...") is dropped.
func BadFlag(fs *pflag.FlagSet, name string, err error) error {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		msg = rest
	}
	value := ""
	if f := fs.Lookup(name); f != nil {
		value = " " + Quote(f.Value.String())
	}
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--%s%s: %s", name, value, msg)}
}

// Failed wraps err to exit 1 (nil stays nil).
func Failed(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitFailed, Err: err}
}

// NeedsHuman wraps err to exit 3 (nil stays nil).
func NeedsHuman(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitHuman, Err: err}
}

// Busy wraps err to exit 4: another operator's run holds what this one
// needs, and nothing was changed (nil stays nil).
func Busy(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitBusy, Err: err}
}

// Command is one subcommand: flags in, one library call out.
type Command struct {
	Name    string
	Summary string // one line for the command list
	Usage   string // "prewarm mirror [flags] [IMAGE...]" plus any prose
	// Flags registers the command's own flags (globals are added for it).
	Flags func(fs *pflag.FlagSet)
	// Run does the work. Results go to env.Stdout; logs to env.Logger.
	Run func(ctx context.Context, env *Env, args []string) error
	// NoInventory is set for a command that reads no inventory: it takes
	// no -c/--config.
	NoInventory bool
}

// LockUsage is the help of --lock, the same in every tool.
const LockUsage = "lock file (default release.lock.json beside -f, else in the current directory)"

// ReleaseUsage is the help of -f/--file, the same in every tool (the lock
// beside the release is inventory.LockPath's rule).
const ReleaseUsage = "release file; its lock is release.lock.json beside it"

// Env is what a command gets: streams, logger and the global flags.
type Env struct {
	Tool   string
	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger

	ConfigFlag string // -c/--config as given
	JSON       bool   // --json: machine output on stdout
	LogFormat  string // text|json
	LogLevel   string // debug|info|warn|error

	// Getenv is os.Getenv unless a test replaces it.
	Getenv func(string) string
	// IsTerminal reports whether Stderr is a terminal (progress bars).
	IsTerminal bool
}

// ConfigPath is where the inventory is read from: --config, else
// $DROVER_INVENTORY, else ./hosts.yaml.
func (e *Env) ConfigPath() string {
	if e.ConfigFlag != "" {
		return e.ConfigFlag
	}
	if p := e.Getenv("DROVER_INVENTORY"); p != "" {
		return p
	}
	return "hosts.yaml"
}

// Main runs tool with args (without the program name) and returns the exit
// code. main() calls it with a signal context; tests call it directly.
func Main(ctx context.Context, tool string, cmds []*Command, args []string, stdout, stderr io.Writer) int {
	env := &Env{Tool: tool, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	if f, ok := stderr.(*os.File); ok {
		env.IsTerminal = isTerminal(f)
	}
	err := dispatch(ctx, env, cmds, args)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, pflag.ErrHelp) {
		return ExitOK
	}
	code := ExitFailed
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	if env.Logger != nil && env.LogFormat == "json" {
		// Log collectors reading --log-format json get the last word as
		// JSON too.
		env.Logger.Error("failed", "tool", tool, "err", err.Error(), "exit", code)
		return code
	}
	fmt.Fprintf(stderr, "%s: %v\n", tool, err)
	return code
}

// globalFlags registers the flags every command takes into env.
func globalFlags(fs *pflag.FlagSet, env *Env, inventory bool) {
	if inventory {
		fs.StringVarP(&env.ConfigFlag, "config", "c", "", "inventory file (default $DROVER_INVENTORY, else ./hosts.yaml)")
	}
	fs.BoolVar(&env.JSON, "json", false, "write the result as JSON on stdout")
	fs.StringVar(&env.LogFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&env.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// leadingGlobals parses the global flags given before the subcommand
// ("rollout -c hosts.yaml finish ..."): it returns them as flag=value
// pairs, to be set on the command's flags (where a later flag wins), and
// the arguments from the subcommand on.
func leadingGlobals(env *Env, args []string) (set [][2]string, rest []string, err error) {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") || args[0] == "-h" || args[0] == "--help" {
		return nil, args, nil
	}
	fs := pflag.NewFlagSet(env.Tool, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(false)
	fs.BoolP("help", "h", false, "")
	globalFlags(fs, &Env{}, true)
	if err := fs.Parse(args); err != nil {
		return nil, nil, Usage("%s: %v (global flags go before or after the command; see --help)", env.Tool, err)
	}
	fs.Visit(func(f *pflag.Flag) {
		if f.Name != "help" {
			set = append(set, [2]string{f.Name, f.Value.String()})
		}
	})
	rest = fs.Args()
	if help, _ := fs.GetBool("help"); help {
		rest = append([]string{"--help"}, rest...)
	}
	return set, rest, nil
}

func dispatch(ctx context.Context, env *Env, cmds []*Command, args []string) error {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "version") {
		fmt.Fprintln(env.Stdout, Version(env.Tool))
		return nil
	}
	globals, args, err := leadingGlobals(env, args)
	if err != nil {
		printCommands(env, cmds)
		return err
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			args = []string{args[1], "--help"}
		} else {
			printCommands(env, cmds)
			if len(args) == 0 {
				return Usage("no command given")
			}
			return nil
		}
	}
	var cmd *Command
	for _, c := range cmds {
		if c.Name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		printCommands(env, cmds)
		return Usage("unknown command %q", args[0])
	}
	fs := pflag.NewFlagSet(env.Tool+" "+cmd.Name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(env.Stderr)
	if cmd.Flags != nil {
		cmd.Flags(fs)
	}
	globalFlags(fs, env, !cmd.NoInventory)
	for _, g := range globals {
		if err := fs.Set(g[0], g[1]); err != nil {
			return Usage("%s --%s: %v", env.Tool, g[0], err)
		}
	}
	fs.Usage = func() {
		// The synopsis, the one-line summary, then the prose.
		synopsis, prose, _ := strings.Cut(cmd.Usage, "\n")
		fmt.Fprintf(env.Stderr, "Usage: %s\n\n%s\n", synopsis, cmd.Summary)
		if prose = strings.TrimSpace(prose); prose != "" {
			fmt.Fprintf(env.Stderr, "\n%s\n", prose)
		}
		fmt.Fprintf(env.Stderr, "\nFlags:\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return Usage("%s %s: %v (see --help)", env.Tool, cmd.Name, err)
	}
	logger, err := NewLogger(env.Stderr, env.LogFormat, env.LogLevel)
	if err != nil {
		return err
	}
	env.Logger = logger
	return cmd.Run(ctx, env, fs.Args())
}

// NewLogger builds the stderr logger from --log-format and --log-level.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, Usage("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(uniqueKeys{slog.NewTextHandler(w, opts)}), nil
	case "json":
		return slog.New(uniqueKeys{slog.NewJSONHandler(w, opts)}), nil
	default:
		return nil, Usage("--log-format %q: want text or json", format)
	}
}

func printCommands(env *Env, cmds []*Command) {
	sorted := append([]*Command(nil), cmds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	fmt.Fprintf(env.Stderr, "Usage: %s COMMAND [flags]\n\nCommands:\n", env.Tool)
	for _, c := range sorted {
		fmt.Fprintf(env.Stderr, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(env.Stderr, "\nRun '%s COMMAND --help' for a command's flags, '%[1]s --version' for the build.\nExit codes: 0 done, 1 some work failed, 2 usage or config error, 3 needs a human,\n4 another run holds the environment (or the job).\n", env.Tool)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
