package notify

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"
)

// Kind is what happened. The inventory's notifications[].events lists
// kinds by these names.
type Kind string

// Event kinds, in the order a rollout sends them.
const (
	RunStarted      Kind = "run-started"      // who, what release, which environments
	WaveStarted     Kind = "wave-started"     // a wave's environments
	EnvDone         Kind = "env-done"         // an environment reached its target
	EnvFailed       Kind = "env-failed"       // an environment failed (and was rolled back), with the reason
	NeedsHuman      Kind = "needs-human"      // could not be put back (exit 3), with the commands to run
	RunFinished     Kind = "run-finished"     // the summary and durations
	PrewarmFinished Kind = "prewarm-finished" // prewarm run: every host ready
	PrewarmFailed   Kind = "prewarm-failed"   // prewarm run: hosts not ready (by name), or stopped early
)

// Kinds lists every kind.
var Kinds = []Kind{RunStarted, WaveStarted, EnvDone, EnvFailed, NeedsHuman, RunFinished, PrewarmFinished, PrewarmFailed}

// ParseKind returns the kind named s, or an error listing the kinds.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); slices.Contains(Kinds, k) {
		return k, nil
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown event %q: want one of %s", s, strings.Join(names, ", "))
}

// Event is one notification. The JSON format sends it as it is; the Slack
// format renders it as text plus blocks.
type Event struct {
	Kind Kind      `json:"event"`
	Time time.Time `json:"time"`
	// Tool and Command: "rollout apply", "rollout rollback", "prewarm run".
	Tool    string `json:"tool"`
	Command string `json:"command"`
	// Who runs it: user@host.
	Who string `json:"who,omitempty"`
	// Release is the release file (or the one-off services) being deployed.
	Release string `json:"release,omitempty"`
	// Envs are the run's environments (run-started, wave-started).
	Envs []string `json:"environments,omitempty"`
	Wave int      `json:"wave,omitempty"`
	// Env and Status: the environment an env-* event is about.
	Env    string `json:"env,omitempty"`
	Status string `json:"status,omitempty"`
	// Reason is why an environment or run failed.
	Reason string `json:"reason,omitempty"`
	// Commands are what a human should run, exactly as printed.
	Commands []string `json:"commands,omitempty"`
	// Summary is a one-line result ("dev=done prod=failed").
	Summary string `json:"summary,omitempty"`
	// Duration of the run or environment; EnvDurations per environment
	// (run-finished).
	Duration     Duration            `json:"durationSeconds,omitempty"`
	EnvDurations map[string]Duration `json:"environmentDurationsSeconds,omitempty"`
	// NotReady names the hosts that do not hold the release (prewarm).
	NotReady []string `json:"hostsNotReady,omitempty"`
	// Exit is the run's exit code (run-finished, prewarm-*).
	Exit int `json:"exit,omitempty"`
}

// MarshalJSON writes the event with wave on wave-started and exit on the
// events that end a run, zeros included: wave 0 and exit 0 are answers
// there, not absent values.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	out := struct {
		plain
		Wave *int `json:"wave,omitempty"`
		Exit *int `json:"exit,omitempty"`
	}{plain: plain(e)}
	if e.Wave != 0 || e.Kind == WaveStarted {
		out.Wave = &e.Wave
	}
	if e.Exit != 0 || e.Kind == RunFinished || e.Kind == NeedsHuman || e.Kind == PrewarmFinished || e.Kind == PrewarmFailed {
		out.Exit = &e.Exit
	}
	return json.Marshal(out)
}

// Duration is a time.Duration written as seconds in JSON.
type Duration time.Duration

// MarshalJSON writes seconds with millisecond precision.
func (d Duration) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%.3f", time.Duration(d).Seconds()), nil
}

func (d Duration) String() string { return time.Duration(d).Round(time.Second).String() }

// Title is the event in one line, for people.
func (e Event) Title() string {
	what := e.Tool + " " + e.Command
	switch e.Kind {
	case RunStarted:
		s := fmt.Sprintf("%s started by %s", what, e.Who)
		if e.Release != "" {
			s += ": " + e.Release
		}
		return s + " on " + strings.Join(e.Envs, ", ")
	case WaveStarted:
		return fmt.Sprintf("%s: wave %d started: %s", what, e.Wave, strings.Join(e.Envs, ", "))
	case EnvDone:
		return fmt.Sprintf("%s: %s done in %s", what, e.Env, e.Duration)
	case EnvFailed:
		s := fmt.Sprintf("%s: %s %s", what, e.Env, e.Status)
		if e.Status == "failed" {
			// rollout's "failed": its upgraded services were rolled back.
			s += " and was rolled back"
		}
		return s + ": " + e.Reason
	case NeedsHuman:
		return fmt.Sprintf("%s needs a human: %s", what, e.Reason)
	case RunFinished:
		verdict := "finished"
		if e.Exit != 0 {
			verdict = fmt.Sprintf("failed (exit %d)", e.Exit)
		}
		return fmt.Sprintf("%s %s in %s: %s", what, verdict, e.Duration, e.Summary)
	case PrewarmFinished:
		return fmt.Sprintf("%s finished in %s: %s", what, e.Duration, e.Summary)
	case PrewarmFailed:
		s := fmt.Sprintf("%s failed (exit %d) in %s", what, e.Exit, e.Duration)
		if len(e.NotReady) > 0 {
			s += fmt.Sprintf(": %d host(s) not ready: %s", len(e.NotReady), strings.Join(e.NotReady, ", "))
		}
		if e.Reason != "" {
			s += ": " + e.Reason
		}
		return s
	}
	return what + ": " + string(e.Kind)
}

// Who is user@host for the process, as run-started reports it.
func Who() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}
