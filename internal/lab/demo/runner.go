package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// runner runs the real tools as subprocesses in the demo's directory, with
// the lab's secrets in their environment (never on a command line).
type runner struct {
	out  io.Writer
	dir  string   // working directory: hosts.yaml, lab.env, releases
	bin  string   // where prewarm and rollout are
	env  []string // os.Environ() plus the lab's secrets
	envs []string // environment names, to condense tables
	full bool
	logs int
}

// result is one finished command.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// run prints the command line, runs it, prints its (condensed) stdout and
// how it ended. Its stderr (progress and logs) goes to a log file in the
// directory; the last line is shown when the command fails. err is set
// only when the command could not run at all.
func (r *runner) run(ctx context.Context, tool string, args ...string) (result, error) {
	fmt.Fprintf(r.out, "\n  $ %s %s\n", tool, strings.Join(args, " "))
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(r.bin, tool), args...) //nolint:gosec // our own tools (--bin or beside lab), arguments built by the demo
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = r.dir, r.env, &stdout, &stderr
	// Ctrl-C on a terminal reaches the tool itself (same process group),
	// which brings in-flight services to rest; sending it another signal
	// would make that the second one (abort). So on cancel the tool gets
	// WaitDelay to finish, then it is killed.
	cmd.Cancel = func() error { return nil }
	cmd.WaitDelay = 30 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		return res, fmt.Errorf("run %s: %w", tool, err)
	}
	r.logs++
	logName := fmt.Sprintf("%02d-%s.log", r.logs, tool)
	_ = os.WriteFile(filepath.Join(r.dir, logName), stderr.Bytes(), 0o600)
	for _, line := range r.condense(res.stdout) {
		fmt.Fprintf(r.out, "    %s\n", line)
	}
	if res.code != 0 {
		if last := lastLine(res.stderr); last != "" {
			fmt.Fprintf(r.out, "    stderr: %s\n", last)
		}
	}
	fmt.Fprintf(r.out, "  -> exit %d in %s\n", res.code, res.took.Round(100*time.Millisecond))
	return res, nil
}

// condense keeps, of a table whose second column names an environment, the
// first row of each environment (unless full), and every other line.
func (r *runner) condense(out string) []string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if r.full {
		return lines
	}
	var keep []string
	seen := map[string]bool{}
	hidden, after := 0, 0 // rows left out; where the note goes (after the table)
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 3 && slices.Contains(r.envs, f[1]) {
			if seen[f[1]] {
				hidden++
				after = len(keep)
				continue
			}
			seen[f[1]] = true
			after = len(keep) + 1
		}
		keep = append(keep, l)
	}
	if hidden > 0 {
		note := fmt.Sprintf("(%d more rows: one per environment shown; --full shows all)", hidden)
		keep = slices.Insert(keep, after, note)
	}
	return keep
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	if len(l) > 300 {
		l = l[:297] + "..."
	}
	return l
}
