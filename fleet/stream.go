package fleet

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// layerBytes adds up per-layer download progress from a pull stream. Only
// "Downloading" lines carry byte counts that mean download progress;
// "Extracting" may carry seconds (containerd store) and is ignored.
type layerBytes struct {
	cur, tot map[string]int64
}

func newLayerBytes() *layerBytes {
	return &layerBytes{cur: map[string]int64{}, tot: map[string]int64{}}
}

// observe updates from one message; it reports whether the totals changed.
func (l *layerBytes) observe(m jsonstream.Message) bool {
	if m.ID == "" {
		return false
	}
	switch m.Status {
	case "Downloading":
		if m.Progress == nil {
			return false
		}
		l.cur[m.ID] = m.Progress.Current
		if m.Progress.Total > 0 {
			l.tot[m.ID] = m.Progress.Total
		}
		return true
	case "Download complete", "Verifying Checksum", "Pull complete":
		if t, ok := l.tot[m.ID]; ok && l.cur[m.ID] != t {
			l.cur[m.ID] = t
			return true
		}
	}
	return false
}

func (l *layerBytes) sums() (cur, tot int64) {
	for _, v := range l.cur {
		cur += v
	}
	for _, v := range l.tot {
		tot += v
	}
	return cur, tot
}

// consume reads a pull stream to its end. An errorDetail line (the daemon
// answered 200 and failed later) is returned as ErrPullStream. A stream
// that just ends early is caught by the caller's RepoDigests check.
func consume(ctx context.Context, resp client.ImagePullResponse, onBytes func(cur, tot int64)) (int64, error) {
	lb := newLayerBytes()
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			cur, _ := lb.sums()
			return cur, fmt.Errorf("read pull stream: %w", err)
		}
		if m.Error != nil {
			cur, _ := lb.sums()
			return cur, fmt.Errorf("%w: %s", ErrPullStream, m.Error.Message)
		}
		if lb.observe(m) && onBytes != nil {
			onBytes(lb.sums())
		}
		if err := ctx.Err(); err != nil { // stopped: not another buffered message
			cur, _ := lb.sums()
			return cur, err
		}
	}
	cur, _ := lb.sums()
	if err := ctx.Err(); err != nil {
		return cur, err
	}
	return cur, nil
}
