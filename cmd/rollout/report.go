package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/rollout"
)

// reportFlags are apply's and rollback's --report and --metrics-file.
type reportFlags struct {
	report, metrics string
	started         time.Time
}

func (f *reportFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.report, "report", "", "also write the JSON report (what --json prints) to FILE, atomically")
	fs.StringVar(&f.metrics, "metrics-file", "", "write Prometheus text-format metrics to FILE, atomically (node_exporter's textfile collector)")
}

// write writes the files for rep and returns err, or the failure to write
// them. A nil rep is a run that stopped before the engine reported (err
// says why): the files say so rather than keep the last run's.
func (f *reportFlags) write(rep *rollout.Report, err error) error {
	if f.report == "" && f.metrics == "" {
		return err
	}
	if rep == nil {
		if err == nil {
			return nil
		}
		rep = rollout.FailedRun(f.started, err)
	}
	if f.report != "" {
		if werr := output.WriteJSON(f.report, rep); werr != nil && err == nil {
			err = cli.Failed(fmt.Errorf("write report: %w", werr))
		}
	}
	if f.metrics != "" {
		if werr := rep.WriteMetrics(f.metrics); werr != nil && err == nil {
			err = cli.Failed(fmt.Errorf("write metrics: %w", werr))
		}
	}
	return err
}
