package output

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// RegionBars shows the progress of copies to regions (prewarm's mirror):
// one bar per region (bytes, rate, ETA) on w when bars is true (a terminal,
// no --json), else a log line per region every 10 seconds. show takes a
// region's bytes done of total; calls come one at a time. stop waits for
// the display to finish.
func RegionBars(ctx context.Context, w io.Writer, bars bool, logger *slog.Logger) (show func(region string, done, total int64), stop func()) {
	if bars {
		return regionBars(ctx, w)
	}
	type progress struct {
		region      string
		done, total int64
	}
	latest := map[string]progress{}
	updates := make(chan progress, 64)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(LogInterval)
		defer tick.Stop()
		for {
			select {
			case p, ok := <-updates:
				if !ok {
					return
				}
				latest[p.region] = p
			case <-tick.C:
				for _, p := range latest {
					logger.Info("mirror progress", "region", p.region, "done", HumanBytes(p.done), "total", HumanBytes(p.total))
				}
			}
		}
	}()
	return func(region string, done, total int64) { updates <- progress{region, done, total} },
		func() { close(updates); <-finished }
}

// regionBars draws one bar per region (bytes, rate, ETA) on w.
func regionBars(ctx context.Context, w io.Writer) (func(string, int64, int64), func()) {
	p := mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithWidth(40))
	bars := map[string]*mpb.Bar{}
	show := func(region string, done, total int64) {
		b := bars[region]
		if b == nil {
			b = p.AddBar(total,
				mpb.PrependDecorators(decor.Name(region, decor.WCSyncSpaceR), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
				mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
			bars[region] = b
		}
		b.SetTotal(total, false)
		b.SetCurrent(done)
	}
	stop := func() {
		for _, b := range bars {
			b.SetTotal(-1, true)
		}
		p.Wait()
	}
	return show, stop
}
