package dockersim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"
)

type layerJob struct {
	desc          descriptor
	diffID, chain string
	id            string // 12 hex of the blob digest: the progress id
	done          chan struct{}
	err           error
	preload       bool // record, do not fetch or extract (Host.Preload)
}

// pullLayers downloads missing layers (at most maxDownloads at once) and
// "extracts" them in order, like dockerd's classic store: a layer already
// present (with all layers below it) is reported as "Already exists".
func (h *Host) pullLayers(ctx context.Context, rc *regClient, repo string, layers []descriptor, diffIDs, chain []string, preload bool, out *stream) error {
	var jobs []*layerJob
	for i, l := range layers {
		j := &layerJob{desc: l, diffID: diffIDs[i], chain: chain[i], id: shortHex(l.Digest), done: make(chan struct{}), preload: preload}
		h.store.mu.Lock()
		_, ok := h.store.layers[chain[i]]
		h.store.mu.Unlock()
		if ok && len(jobs) == 0 {
			out.status(j.id, "Already exists")
			continue
		}
		out.status(j.id, "Pulling fs layer")
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		if h.failMid.Load() {
			return io.ErrUnexpectedEOF
		}
		return nil
	}
	for i, j := range jobs {
		if i >= h.cfg.maxDownloads {
			out.status(j.id, "Waiting")
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, h.cfg.maxDownloads)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			defer close(j.done)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				j.err = context.Cause(ctx)
				return
			}
			defer func() { <-sem }()
			if j.err = h.download(ctx, rc, repo, j, out); j.err != nil {
				cancel(j.err)
			}
		})
	}
	err := h.extractAll(ctx, jobs, out)
	if err != nil {
		cancel(err)
	}
	wg.Wait()
	return err
}

func (h *Host) extractAll(ctx context.Context, jobs []*layerJob, out *stream) error {
	for _, j := range jobs {
		select {
		case <-j.done:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if j.err != nil {
			return j.err
		}
		if err := h.extract(ctx, j, out); err != nil {
			return err
		}
	}
	return nil
}

// extract spends the host's extract time on j and reports it.
func (h *Host) extract(ctx context.Context, j *layerJob, out *stream) error {
	size, rate := j.desc.Size, h.cfg.extractRate
	if j.preload {
		rate = 0
	}
	if rate <= 0 || size <= 0 {
		out.progress(j.id, "Extracting", size, size)
		out.status(j.id, "Pull complete")
		return nil
	}
	// About 20 progress lines per layer; sleeps target absolute offsets so
	// rounding does not accumulate.
	at := func(n int64) time.Duration { return time.Duration(math.Round(float64(n) / float64(rate) * 1e9)) }
	step := max((size+19)/20, 32<<10)
	for cur := int64(0); cur < size; {
		n := min(step, size-cur)
		if err := sleepCtx(ctx, at(cur+n)-at(cur)); err != nil {
			return err
		}
		cur += n
		out.progress(j.id, "Extracting", cur, size)
	}
	out.status(j.id, "Pull complete")
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// inflight is a layer download other pulls on the host can wait for.
type inflight struct {
	done chan struct{}
	err  error
}

// download fetches j's blob once per host even when several pulls want it.
func (h *Host) download(ctx context.Context, rc *regClient, repo string, j *layerJob, out *stream) error {
	for {
		h.dlMu.Lock()
		if f, ok := h.inflight[j.chain]; ok {
			h.dlMu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if errors.Is(f.err, context.Canceled) && ctx.Err() == nil {
				continue // the other pull gave up; try ourselves
			}
			if f.err != nil {
				return f.err
			}
			out.status(j.id, "Download complete")
			return nil
		}
		h.store.mu.Lock()
		_, have := h.store.layers[j.chain]
		h.store.mu.Unlock()
		if have {
			h.dlMu.Unlock()
			out.status(j.id, "Download complete")
			return nil
		}
		f := &inflight{done: make(chan struct{})}
		h.inflight[j.chain] = f
		h.dlMu.Unlock()

		f.err = h.fetchLayer(ctx, rc, repo, j, out)
		h.dlMu.Lock()
		delete(h.inflight, j.chain)
		h.dlMu.Unlock()
		close(f.done)
		return f.err
	}
}

// fetchLayer streams one blob, verifying its digest and claiming disk as
// bytes arrive; the bytes themselves are discarded.
func (h *Host) fetchLayer(ctx context.Context, rc *regClient, repo string, j *layerJob, out *stream) error {
	if j.preload {
		if err := h.store.reserve(j.desc.Size, j.desc.Digest); err != nil {
			return err
		}
		h.commitLayer(j, j.desc.Size, j.desc.Size)
		return nil
	}
	body, err := h.openLayer(ctx, rc, repo, j.desc)
	if err != nil {
		return err
	}
	defer body.Close()

	total := j.desc.Size
	every := int64(512 << 10)
	if inc := total / 100; total > 0 && inc < every {
		every = inc
	}
	var (
		cur, last, reserved int64
		hasher              = sha256.New()
		buf                 = make([]byte, 32<<10)
	)
	defer func() { h.store.release(reserved) }()
	for {
		chunk := buf
		if h.failMid.Load() {
			if cur >= total/2 {
				return io.ErrUnexpectedEOF // FailPullMidStream: the "connection" drops here
			}
			chunk = buf[:min(int64(len(buf)), max(total/2-cur, 1))]
		}
		n, rerr := body.Read(chunk)
		if n > 0 {
			if err := h.store.reserve(int64(n), j.desc.Digest); err != nil {
				return err
			}
			reserved += int64(n)
			hasher.Write(chunk[:n])
			cur += int64(n)
			if cur-last > every || cur == total {
				out.progress(j.id, "Downloading", cur, total)
				last = cur
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if errors.Is(rerr, context.Canceled) && context.Cause(ctx) != nil {
				return context.Cause(ctx)
			}
			return rerr
		}
	}
	out.status(j.id, "Verifying Checksum")
	if got := "sha256:" + hex.EncodeToString(hasher.Sum(nil)); got != j.desc.Digest || (total > 0 && cur != total) {
		return fmt.Errorf("filesystem layer verification failed for digest %s", j.desc.Digest)
	}
	h.commitLayer(j, reserved, cur)
	reserved = 0
	h.countLayer()
	out.status(j.id, "Download complete")
	return nil
}

// commitLayer turns reserved bytes of disk into j's stored layer of size
// bytes (once per chain ID, however many pulls raced for it).
func (h *Host) commitLayer(j *layerJob, reserved, size int64) {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	h.store.used -= reserved
	if _, ok := h.store.layers[j.chain]; !ok {
		h.store.layers[j.chain] = &layerRec{chainID: j.chain, diffID: j.diffID, blob: j.desc.Digest, size: size}
		h.store.used += size
	}
}

// openLayer opens a layer blob from the registry and, only for a foreign
// layer the registry lacks and only on a Windows host, from its URLs in
// order, as dockerd does (moby distribution/pull_v2_windows.go: "We're done
// if the registry has this blob"; pull_v2_unix.go never follows urls). So a
// host pulling from a region that mirrored the foreign layers never reaches
// the vendor's URLs, and a Linux host pulls them only from a registry.
func (h *Host) openLayer(ctx context.Context, rc *regClient, repo string, d descriptor) (io.ReadCloser, error) {
	body, err := rc.openBlob(ctx, repo, d.Digest)
	if err == nil || !d.isForeign() || h.cfg.platform.OS != "windows" || ctx.Err() != nil {
		return body, err
	}
	for _, u := range d.URLs {
		if body, uerr := h.openURL(ctx, u); uerr == nil {
			return body, nil
		}
	}
	return nil, err
}

func (h *Host) openURL(ctx context.Context, raw string) (io.ReadCloser, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("foreign layer URL %q: unsupported", raw)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("foreign layer URL %s: %s", u.Redacted(), resp.Status)
	}
	host := u.Host
	return &countingBody{ReadCloser: resp.Body, count: func(n int64) { h.countBytes(host, n) }}, nil
}
