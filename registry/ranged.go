package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// part is one range [off, end) of a blob read from the source; its fetcher
// sends the range's chunks on ch, sets err when it gives up, and closes ch.
type part struct {
	off, end int64
	ch       chan *chunk
	err      error
}

// pumpRanged reads the blob as ranges of rangeSize, up to ranges of them at
// once, and hands their chunks to the sinks in blob order, hashing them on
// the way. first is the open body of the first range.
//
// Memory: a range is fetched only while fewer than ranges of them are
// fetched or waiting to be handed on, so at most ranges x rangeSize of the
// blob is buffered (32 MiB by default), besides the sinks' own buffers.
// Connections: the first range in flight uses the blob's source slot; each
// further one borrows a free slot of the source's limit (maxConcurrency, or
// jobs) and returns it when its range is read, so the limit still bounds the
// GETs in flight, and blobs waiting for a slot go first.
func (r *run) pumpRanged(ctx context.Context, j *blobJob, sinks []*sink, first io.ReadCloser) error {
	b := j.blob
	size := r.o.rangeSize
	parts := make([]*part, (b.Size+size-1)/size)
	perPart := int(size)/r.o.chunk + r.o.attempts + 1 // a fetcher never waits on its channel
	for k := range parts {
		off := int64(k) * size
		parts[k] = &part{off: off, end: min(off+size, b.Size), ch: make(chan *chunk, perPart)}
	}
	fctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	window := make(chan struct{}, r.o.ranges) // a token per range fetched and not yet handed on
	own := make(chan struct{}, 1)             // the blob's own source slot, when no range uses it
	own <- struct{}{}
	wg.Go(func() {
		pre := true // the caller's borrowed slot, for the second range
		defer func() {
			if pre {
				r.src.slots.Release(1)
			}
		}()
		for k, p := range parts {
			var body io.ReadCloser
			if k == 0 {
				body = first
			}
			select {
			case window <- struct{}{}:
			case <-fctx.Done():
				if body != nil {
					body.Close()
				}
				return
			}
			borrowed := pre
			if pre && k == 1 {
				pre = false
			} else if got, err := r.rangeSlot(fctx, own); err == nil {
				borrowed = got
			} else {
				if body != nil {
					body.Close()
				}
				return
			}
			wg.Go(func() {
				r.fetchPart(fctx, j, p, body)
				if borrowed {
					r.src.slots.Release(1)
				} else {
					own <- struct{}{}
				}
			})
		}
	})
	err := r.handOn(fctx, b, parts, window, sinks)
	cancel()
	wg.Wait()
	for _, p := range parts { // chunks of ranges read but not handed on
		for {
			select {
			case c, ok := <-p.ch:
				if ok {
					r.chunks.Put(c)
					continue
				}
			default:
			}
			break
		}
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// rangeSlot takes a source connection for one range: the blob's own slot
// when free, else a free slot of the source's limit, else the first of the
// two that frees up. borrowed says which to give back.
func (r *run) rangeSlot(ctx context.Context, own chan struct{}) (borrowed bool, err error) {
	select {
	case <-own:
		return false, nil
	default:
	}
	if r.src.slots.TryAcquire(1) {
		return true, nil
	}
	select {
	case <-own:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// handOn delivers the parts' chunks in blob order and checks the digest.
func (r *run) handOn(ctx context.Context, b blob, parts []*part, window <-chan struct{}, sinks []*sink) error {
	h := sha256.New()
	for _, p := range parts {
		for done := false; !done; {
			select {
			case c, ok := <-p.ch:
				if !ok {
					done = true
					break
				}
				h.Write(c.buf[:c.n])
				if err := r.deliver(ctx, c, sinks); err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if p.err != nil {
			return p.err
		}
		<-window
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != b.Digest {
		return fmt.Errorf("source blob %s: content hashes to %s", b.Digest, got)
	}
	return nil
}

// fetchPart reads p's range into chunks on p.ch; body, when not nil, is
// the range already open. A read cut short resumes where it stopped, up to
// the retry limit; a registry that stops honouring Range fails the part.
func (r *run) fetchPart(ctx context.Context, j *blobJob, p *part, body io.ReadCloser) {
	defer close(p.ch)
	b := j.blob
	got := int64(0)
	for attempt := 1; ; attempt++ {
		if body == nil {
			rc, ranged, err := r.src.getRange(ctx, j.srcRepo, b.Digest, p.off+got, p.end)
			if err == nil && !ranged {
				rc.Close()
				err = errors.New("the registry answered 200 (the whole blob) to a Range request it had honoured before")
			}
			if err != nil {
				p.err = fmt.Errorf("read %s bytes %d-%d from source: %w", b.Digest, p.off+got, p.end-1, err)
				return
			}
			body = rc
		}
		var err error
		for got < p.end-p.off && err == nil {
			c := r.chunks.Get().(*chunk)
			var n int
			n, err = io.ReadFull(body, c.buf[:min(int64(len(c.buf)), p.end-p.off-got)])
			r.sourceBytes.Add(int64(n))
			if n == 0 {
				r.chunks.Put(c)
				continue
			}
			c.n = n
			got += int64(n)
			p.ch <- c // never blocks: the channel holds the whole range
		}
		body.Close()
		body = nil
		switch {
		case got == p.end-p.off:
			return
		case ctx.Err() != nil:
			p.err = ctx.Err()
			return
		case attempt >= r.o.attempts:
			p.err = fmt.Errorf("read %s from source at byte %d after %d attempts: %w", b.Digest, p.off+got, attempt, err)
			return
		}
		r.o.logger.Debug("source range cut, resuming", "digest", b.Digest, "offset", p.off+got, "err", err)
		if serr := r.o.sleep(ctx, r.o.delay(attempt, 0)); serr != nil {
			p.err = serr
			return
		}
	}
}
