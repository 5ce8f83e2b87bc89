package output

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// HostBars shows the progress of work on hosts (prewarm's pulls): one bar
// per host on a terminal (layer bytes downloaded; extract time is not
// shown, since the containerd store reports it in seconds), periodic log
// lines otherwise. Update is safe for concurrent use; Close waits for the
// display to finish.
type HostBars struct {
	mu     sync.Mutex
	hosts  map[string]*hostState
	order  []string
	p      *mpb.Progress
	logger *slog.Logger
	stop   context.CancelFunc
	done   chan struct{}
}

type hostState struct {
	bar    *mpb.Bar
	phase  string
	image  string
	base   int64 // bytes of finished images
	cur    int64
	tot    int64
	failed bool
	closed bool
	label  atomic.Pointer[string] // read by the bar's decorator without d.mu
}

// LogInterval is how often a progress display off a terminal logs its
// summary line (the tools' one setting of it).
const LogInterval = 10 * time.Second

// NewHostBars starts a display for the named hosts. On a terminal
// (terminal true) it draws bars on w; otherwise it logs a summary line
// every interval (the tools give LogInterval).
func NewHostBars(w io.Writer, terminal bool, logger *slog.Logger, hosts []string, interval time.Duration) *HostBars {
	ctx, cancel := context.WithCancel(context.Background())
	d := &HostBars{hosts: map[string]*hostState{}, logger: logger, stop: cancel, done: make(chan struct{})}
	width := 0
	for _, h := range hosts {
		width = max(width, len(h))
	}
	if terminal {
		d.p = mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithAutoRefresh())
	}
	for _, h := range hosts {
		hs := &hostState{phase: "queued"}
		hs.label.Store(&hs.phase)
		if d.p != nil {
			hs.bar = d.p.AddBar(0, mpb.BarWidth(24),
				mpb.PrependDecorators(
					decor.Name(fmt.Sprintf("%-*s ", width, h)),
					decor.Any(func(decor.Statistics) string { return *hs.label.Load() }, decor.WC{W: 20, C: decor.DindentRight}),
				),
				mpb.AppendDecorators(decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
			)
		}
		d.hosts[h] = hs
		d.order = append(d.order, h)
	}
	if d.p == nil {
		go d.logLoop(ctx, interval)
	} else {
		close(d.done)
	}
	return d
}

// Update takes one progress event of host: the image worked on, its phase
// (checking, waiting, pulling, tagging, present, done, failed) and, while
// pulling, the layer bytes downloaded of total. Bars are updated outside
// the lock: mpb calls the decorators from its own goroutine.
func (d *HostBars) Update(host, image, phase string, current, total int64) {
	d.mu.Lock()
	hs, ok := d.hosts[host]
	if !ok || hs.closed {
		d.mu.Unlock()
		return
	}
	hs.image, hs.phase = image, phase
	label := image + " " + phase
	hs.label.Store(&label)
	switch phase {
	case "pulling":
		hs.cur, hs.tot = current, total
	case "done", "present", "failed":
		hs.base += hs.cur
		hs.cur, hs.tot = 0, 0
		if phase == "failed" {
			hs.failed = true
		}
	}
	bar, total, cur := hs.bar, hs.base+max(hs.tot, hs.cur), hs.base+hs.cur
	d.mu.Unlock()
	if bar != nil {
		bar.SetTotal(total, false)
		bar.SetCurrent(cur)
	}
}

// Close marks every bar finished (failed hosts aborted) and waits.
func (d *HostBars) Close() {
	type fin struct {
		bar    *mpb.Bar
		failed bool
	}
	var fins []fin
	d.mu.Lock()
	for _, name := range d.order {
		hs := d.hosts[name]
		hs.closed = true
		if hs.bar != nil {
			fins = append(fins, fin{hs.bar, hs.failed})
		}
	}
	d.mu.Unlock()
	for _, f := range fins {
		if f.failed {
			f.bar.Abort(false)
		} else {
			f.bar.SetTotal(-1, true)
		}
	}
	if d.p != nil {
		d.p.Wait()
	}
	d.stop()
	<-d.done
}

func (d *HostBars) logLoop(ctx context.Context, interval time.Duration) {
	defer close(d.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.logSummary()
		}
	}
}

func (d *HostBars) logSummary() {
	d.mu.Lock()
	var done, failed, active, queued int
	var bytes int64
	for _, hs := range d.hosts {
		bytes += hs.base + hs.cur
		switch {
		case hs.failed:
			failed++
		case hs.phase == "queued":
			queued++
		case hs.phase == "done" || hs.phase == "present":
			done++
		default:
			active++
		}
	}
	d.mu.Unlock()
	level := slog.LevelInfo
	if failed > 0 {
		level = slog.LevelWarn
	}
	d.logger.Log(context.Background(), level, "prewarm progress", "hosts", len(d.hosts), "finished", done, "active", active, "queued", queued, "failed", failed, "bytes", HumanBytes(bytes))
}
