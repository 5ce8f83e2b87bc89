package rollout

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dev/drover/internal/atomicfile"
)

// envStatuses are every EnvStatus, in the order the metrics list them.
var envStatuses = []EnvStatus{EnvDone, EnvGated, EnvFailed, EnvNeedsHuman, EnvInterrupted, EnvNotStarted}

// lastSuccessMetric is the one metric a run carries over from the file it
// replaces.
const lastSuccessMetric = "rollout_last_success_timestamp_seconds"

// Metrics renders r in the Prometheus text format, for node_exporter's
// textfile collector: the run's outcome, per environment its status, the
// services upgraded, rolled back and failed, and its duration; and per
// environment when a run last left it done. prev is the file this one
// replaces (nil if none): an environment this run did not bring to done
// keeps the time prev gave it, so a failed run does not erase the last
// success (environments not in this run are carried over too).
func (r *Report) Metrics(prev []byte) []byte {
	last := LastSuccess(prev)
	var b bytes.Buffer
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	gauge("rollout_success", "1 when the last run left every environment done; 0 otherwise (alert on this).")
	fmt.Fprintf(&b, "rollout_success %d\n", boolNum(r.Err() == nil && r.Error == ""))
	gauge("rollout_run_failed", "1 when the last run stopped before it worked on any environment (the report's error says why).")
	fmt.Fprintf(&b, "rollout_run_failed %d\n", boolNum(r.Error != ""))
	gauge("rollout_env_status", "How each environment ended in the last run: 1 for its status, 0 for the others.")
	for _, e := range r.Envs {
		for _, s := range envStatuses {
			fmt.Fprintf(&b, "rollout_env_status{env=%s,status=%q} %d\n", quote(e.Env), s, boolNum(e.Status == s))
		}
	}
	gauge("rollout_env_services", "Services per environment in the last run: upgraded (finished or left upgraded), rolled back, failed.")
	for _, e := range r.Envs {
		var up, back, failed int
		for _, s := range e.Services {
			switch s.Outcome {
			case OutcomeFinished, OutcomeUpgraded:
				up++
			case OutcomeRolledBack:
				back++
			case OutcomeFailed:
				failed++
			}
		}
		fmt.Fprintf(&b, "rollout_env_services{env=%s,result=\"upgraded\"} %d\n", quote(e.Env), up)
		fmt.Fprintf(&b, "rollout_env_services{env=%s,result=\"rolled_back\"} %d\n", quote(e.Env), back)
		fmt.Fprintf(&b, "rollout_env_services{env=%s,result=\"failed\"} %d\n", quote(e.Env), failed)
	}
	gauge("rollout_env_duration_seconds", "How long each environment took in the last run.")
	for _, e := range r.Envs {
		fmt.Fprintf(&b, "rollout_env_duration_seconds{env=%s} %s\n", quote(e.Env), num(e.Seconds))
	}
	gauge("rollout_duration_seconds", "Duration of the last run.")
	fmt.Fprintf(&b, "rollout_duration_seconds %s\n", num(r.Ended.Sub(r.Started).Seconds()))
	gauge("rollout_last_run_timestamp_seconds", "When the last run started (Unix time).")
	fmt.Fprintf(&b, "rollout_last_run_timestamp_seconds %d\n", r.Started.Unix())
	for _, e := range r.Envs {
		if e.Status == EnvDone {
			last[e.Env] = r.Ended.Unix()
		}
	}
	gauge(lastSuccessMetric, "When a run last left the environment done (Unix time); kept across failed runs.")
	for _, env := range slices.Sorted(maps.Keys(last)) {
		fmt.Fprintf(&b, "%s{env=%s} %d\n", lastSuccessMetric, quote(env), last[env])
	}
	return b.Bytes()
}

// maxPrevMetrics bounds how much of the file WriteMetrics replaces it
// reads for the last success times: a metrics file is a few KiB, and
// --metrics-file pointed at something else (a device, a huge file) must not
// cost memory or time.
const maxPrevMetrics = 1 << 20

// WriteMetrics writes Metrics to path atomically, carrying the last
// success times over from the file it replaces (a missing, unreadable,
// non-regular or larger than 1 MiB old file carries nothing).
func (r *Report) WriteMetrics(path string) error {
	return atomicfile.WriteFile(path, r.Metrics(readPrevMetrics(path)))
}

func readPrevMetrics(path string) []byte {
	// Stat before opening: opening a FIFO for reading would wait for a writer.
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() || fi.Size() > maxPrevMetrics {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPrevMetrics))
	if err != nil {
		return nil
	}
	return b
}

// LastSuccess reads, from a metrics file Metrics wrote, each environment's
// last success time (Unix seconds). Lines it does not understand are
// skipped: a damaged file loses what it lost, not the run.
func LastSuccess(metrics []byte) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(metrics))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), lastSuccessMetric+`{env="`)
		if !ok {
			continue
		}
		i := strings.LastIndex(rest, `"} `)
		if i < 0 {
			continue
		}
		env, err := strconv.Unquote(`"` + rest[:i] + `"`)
		if err != nil {
			continue
		}
		if v, err := strconv.ParseInt(strings.TrimSpace(rest[i+3:]), 10, 64); err == nil {
			out[env] = v
		}
	}
	return out
}

// FailedRun is the report of a run that stopped before it worked on any
// environment (bad flags, a lease held, Rancher unreachable): with
// --report and --metrics-file, it replaces the last run's files rather
// than leave them saying all is well.
func FailedRun(started time.Time, err error) *Report {
	return &Report{Started: started, Ended: time.Now(), Error: err.Error(), Envs: []EnvReport{}}
}

// quote escapes a label value (backslash, quote, newline).
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

func boolNum(b bool) int {
	if b {
		return 1
	}
	return 0
}
