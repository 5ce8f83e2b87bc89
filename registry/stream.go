package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// chunk is a piece of a blob on its way to every sink; the last sink to
// finish with it returns it to the pool.
type chunk struct {
	buf  []byte
	n    int
	refs atomic.Int32
	pool *sync.Pool
}

func (c *chunk) release() {
	if c.refs.Add(-1) == 0 {
		c.pool.Put(c)
	}
}

// sink is one upload in a fan-out: a bounded channel of chunks that its
// PUT's body reads from.
type sink struct {
	ch     chan *chunk
	dead   chan struct{} // closed when the PUT returned
	cancel context.CancelFunc
	rd     *chanReader
	sent   atomic.Int64
	err    error
}

// chanReader is a PUT body fed from a channel of chunks.
type chanReader struct {
	ctx    context.Context
	ch     <-chan *chunk
	cur    *chunk
	rest   []byte
	onRead func(n int)
}

func (r *chanReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		if r.cur != nil {
			r.cur.release()
			r.cur = nil
		}
		select {
		case c, ok := <-r.ch:
			if !ok {
				return 0, io.EOF
			}
			r.cur, r.rest = c, c.buf[:c.n]
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	r.onRead(n)
	return n, nil
}

var errAllSinksFailed = errors.New("every upload of the blob failed")

// pump reads the blob from the source once and hands each chunk to every
// live sink, waiting for room in each (backpressure). A blob larger than one
// range is read as several ranges at once (pumpRanged) when a second source
// slot is free and the source answers a Range request with 206; otherwise,
// and for foreign layers, by one GET (pumpStream): ranges read one after
// another on one connection would each wait a round trip for nothing. The
// content must hash to the blob's digest.
func (r *run) pump(ctx context.Context, j *blobJob, sinks []*sink) error {
	b := j.blob
	if r.o.ranges < 2 || b.Size <= r.o.rangeSize || b.foreign() || !r.src.slots.TryAcquire(1) {
		return r.pumpStream(ctx, j, sinks, nil)
	}
	body, ranged, err := r.src.getRange(ctx, j.srcRepo, b.Digest, 0, r.o.rangeSize)
	if err != nil {
		r.src.slots.Release(1)
		return fmt.Errorf("read %s from source: %w", b.Digest, err)
	}
	if !ranged { // 200: the whole blob, as one GET would have had it
		r.src.slots.Release(1)
		r.o.logger.Debug("source ignores Range, reading the blob as one stream", "digest", b.Digest)
		return r.pumpStream(ctx, j, sinks, body)
	}
	return r.pumpRanged(ctx, j, sinks, body)
}

// pumpStream reads the blob by one GET (body, when not nil, is one already
// open from the blob's first byte). A source read cut short is resumed from
// where it stopped (a Range request), up to the retry limit.
func (r *run) pumpStream(ctx context.Context, j *blobJob, sinks []*sink, body io.ReadCloser) error {
	b := j.blob
	pool := &r.chunks
	h := sha256.New()
	var off int64
	defer func() {
		if body != nil {
			body.Close()
		}
	}()
	for attempt := 1; off < b.Size; {
		if body == nil {
			rc, start, err := r.openBlob(ctx, j, off)
			if err != nil {
				return fmt.Errorf("read %s from source: %w", b.Digest, err)
			}
			body = rc
			if start < off { // no Range support: skip what was already sent
				n, err := io.CopyN(io.Discard, body, off-start)
				r.sourceBytes.Add(n)
				if err != nil {
					return fmt.Errorf("read %s from source: %w", b.Digest, err)
				}
			}
		}
		c := pool.Get().(*chunk)
		n, err := io.ReadFull(body, c.buf[:min(int64(len(c.buf)), b.Size-off)])
		r.sourceBytes.Add(int64(n))
		if n > 0 {
			h.Write(c.buf[:n])
			off += int64(n)
			c.n = n
			if err := r.deliver(ctx, c, sinks); err != nil {
				return err
			}
		} else {
			pool.Put(c)
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt >= r.o.attempts {
			return fmt.Errorf("read %s from source at byte %d after %d attempts: %w", b.Digest, off, attempt, err)
		}
		r.o.logger.Debug("source read cut, resuming", "digest", b.Digest, "offset", off, "err", err)
		body.Close()
		body = nil
		if err := r.o.sleep(ctx, r.o.delay(attempt, 0)); err != nil {
			return err
		}
		attempt++
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != b.Digest {
		return fmt.Errorf("source blob %s: content hashes to %s", b.Digest, got)
	}
	return nil
}

// openBlob opens the blob at the source from offset; a foreign layer the
// source does not hold is read from its URLs instead.
func (r *run) openBlob(ctx context.Context, j *blobJob, off int64) (io.ReadCloser, int64, error) {
	b := j.blob
	rc, start, err := r.src.getBlob(ctx, j.srcRepo, b.Digest, off, b.Size)
	var herr *HTTPError
	if err == nil || !b.foreign() || len(b.URLs) == 0 || !errors.As(err, &herr) || herr.Status != http.StatusNotFound {
		return rc, start, err
	}
	for _, u := range b.URLs {
		req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if rerr != nil {
			err = rerr
			continue
		}
		if off > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, b.Size-1))
		}
		resp, rerr := (&http.Client{Transport: r.o.transport}).Do(req)
		if rerr != nil {
			err = rerr
			continue
		}
		switch resp.StatusCode {
		case http.StatusOK:
			return resp.Body, 0, nil
		case http.StatusPartialContent:
			return resp.Body, off, nil
		}
		resp.Body.Close()
		err = fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil, 0, fmt.Errorf("foreign layer %s: not at the source, and its URLs failed: %w", b.Digest, err)
}

// deliver gives c to every sink whose upload is still going.
func (r *run) deliver(ctx context.Context, c *chunk, sinks []*sink) error {
	c.refs.Store(int32(len(sinks))) //nolint:gosec // G115: one sink per region, never near 2^31
	live := 0
	for _, s := range sinks {
		select {
		case s.ch <- c:
			live++
		case <-s.dead:
			c.release()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if live == 0 {
		return errAllSinksFailed
	}
	return nil
}
