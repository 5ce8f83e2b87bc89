package main

import (
	"time"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/prewarm"
)

// logRunStart and logRunEnd bracket prewarm run on stderr, terminal or
// not: from cron or CI, a short run that pulled nothing still says it ran,
// and how it ended. The error itself is printed once, by cli.Main.
func logRunStart(env *cli.Env, release string) {
	env.Logger.Info("prewarm run started", "release", release)
}

func logRunEnd(env *cli.Env, started time.Time, rr *prewarm.Report, err error) {
	attrs := []any{"took", time.Since(started).Round(time.Millisecond)}
	if rr != nil && rr.Pull != nil {
		attrs = append(attrs, "hosts", len(rr.Pull.Hosts), "not_ready", len(rr.NotReady))
	}
	if err != nil {
		env.Logger.Error("prewarm run failed", attrs...)
		return
	}
	env.Logger.Info("prewarm run done", attrs...)
}
