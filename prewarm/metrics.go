package prewarm

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/atomicfile"
)

// Metrics renders rr in the Prometheus text format, for node_exporter's
// textfile collector: hosts ready/missing/failed and bytes pulled per
// environment, durations, and when the run ended.
func (rr *Report) Metrics() []byte {
	var b bytes.Buffer
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	gauge("prewarm_success", "1 when the last prewarm run mirrored everything and every host is ready; 0 otherwise (alert on this).")
	fmt.Fprintf(&b, "prewarm_success %d\n", boolNum(rr.OK()))
	gauge("prewarm_run_failed", "1 when the last prewarm run stopped before mirroring or pulling (bad inventory, release or lock, source unreachable).")
	fmt.Fprintf(&b, "prewarm_run_failed %d\n", boolNum(rr.Error != ""))
	var envs []fleet.EnvCount
	bytesByEnv := map[string]int64{}
	if rr.Pull != nil {
		envs = rr.Pull.ByEnv()
		for _, h := range rr.Pull.Hosts {
			bytesByEnv[h.Env] += h.Bytes
		}
	}
	gauge("prewarm_hosts", "Hosts by state after the last prewarm run (ready: every image present; failed: an error; missing: not attempted or interrupted).")
	for _, e := range envs {
		for _, s := range []struct {
			state string
			n     int
		}{{"ready", e.Ready}, {"missing", e.Missing}, {"failed", e.Failed}} {
			fmt.Fprintf(&b, "prewarm_hosts{env=%s,state=%q} %d\n", quote(e.Env), s.state, s.n)
		}
	}
	gauge("prewarm_pulled_bytes", "Layer bytes hosts downloaded in the last prewarm run.")
	envNames := make([]string, 0, len(bytesByEnv))
	for e := range bytesByEnv {
		envNames = append(envNames, e)
	}
	sort.Strings(envNames)
	for _, e := range envNames {
		fmt.Fprintf(&b, "prewarm_pulled_bytes{env=%s} %d\n", quote(e), bytesByEnv[e])
	}
	gauge("prewarm_mirror_duration_seconds", "Duration of the mirror step of the last prewarm run.")
	fmt.Fprintf(&b, "prewarm_mirror_duration_seconds %s\n", num(rr.MirrorSeconds))
	gauge("prewarm_mirror_failed", "1 when the mirror step of the last prewarm run failed.")
	fmt.Fprintf(&b, "prewarm_mirror_failed %d\n", boolNum(rr.MirrorError != ""))
	gauge("prewarm_duration_seconds", "Duration of the last prewarm run (mirror and pull).")
	fmt.Fprintf(&b, "prewarm_duration_seconds %s\n", num(rr.Seconds))
	gauge("prewarm_last_run_timestamp_seconds", "When the last prewarm run started (Unix time).")
	fmt.Fprintf(&b, "prewarm_last_run_timestamp_seconds %d\n", rr.Started.Unix())
	return b.Bytes()
}

// WriteMetrics writes Metrics to path atomically.
func (rr *Report) WriteMetrics(path string) error {
	return atomicfile.WriteFile(path, rr.Metrics())
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
