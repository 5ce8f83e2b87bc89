package registry

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
	"github.com/drover-dev/drover/internal/lab/registries"
)

// withRanges reads blobs larger than size as up to n ranges of size at
// once, in chunks of chunk bytes (small values, so that tests stay small).
func withRanges(n int, size int64, chunk int) Option {
	return func(o *options) error {
		o.ranges, o.rangeSize, o.chunk = n, size, chunk
		return nil
	}
}

// rangeStart is where a blob GET's Range starts, or -1 without one.
func rangeStart(req *http.Request) int64 {
	var from int64
	if c, _, _ := netem.Classify(req.URL.Path); c != netem.ClassBlobs || req.Method != http.MethodGet {
		return -1
	}
	if _, err := fmt.Sscanf(req.Header.Get("Range"), "bytes=%d-", &from); err != nil {
		return -1
	}
	return from
}

// oneLayer seeds app:1.0, one layer of about size bytes, and returns the
// layer's digest.
func oneLayer(t *testing.T, l *lab, size int64) string {
	t.Helper()
	seeded := l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: size, Layers: 1, Base: -1})
	return seeded["app:1.0"].Layers[0]
}

// TestMirrorRangedReads: a blob larger than one range is read as ranges, at
// least two at once, each once, and lands whole (the regions check the
// digest) in every region.
func TestMirrorRangedReads(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	layer := oneLayer(t, l, 3<<20)
	lock := l.lock(t, []string{"app:1.0"})
	want := sum(blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest))
	l.resetStats()
	second := make(chan struct{})
	var once sync.Once
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		from := rangeStart(req)
		if from > 0 {
			once.Do(func() { close(second) })
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil && from == 0 && strings.HasSuffix(req.URL.Path, layer) {
			// The first range gives no byte until a second one is asked for.
			resp.Body = &gatedBody{ReadCloser: resp.Body, gate: second, t: t}
		}
		return resp, err
	})
	const size = 256 << 10
	if _, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(withRanges(4, size, 16<<10), WithTransport(rt))...); err != nil {
		t.Fatalf("mirror: %v", err)
	}
	if got := served(l.src); got != want {
		t.Errorf("source served %d bytes, want the image once (%d)", got, want)
	}
	layerSize := blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest)[layer]
	var ranged int
	for _, e := range l.src.Log() {
		if e.Class == netem.ClassBlobs && e.Method == http.MethodGet && e.Ref == layer {
			if e.Status != http.StatusPartialContent || e.BytesOut > size {
				t.Errorf("layer GET: %d with %d bytes, want 206 with at most %d", e.Status, e.BytesOut, size)
			}
			ranged++
		}
	}
	if n := int((layerSize + size - 1) / size); ranged != n {
		t.Errorf("layer read by %d GETs, want %d ranges", ranged, n)
	}
	for name, r := range l.regions {
		if code, _ := headBlob(t, r.Addr(), "app", layer); code != http.StatusOK {
			t.Errorf("region %s: HEAD layer %d, want 200", name, code)
		}
	}
}

// gatedBody holds its first Read until gate is closed.
type gatedBody struct {
	io.ReadCloser
	gate <-chan struct{}
	t    *testing.T
	once sync.Once
}

func (b *gatedBody) Read(p []byte) (int, error) {
	var err error
	b.once.Do(func() {
		select {
		case <-b.gate:
		case <-time.After(30 * time.Second): // a deadline, not a pause: the gate opens at once when ranges overlap
			b.t.Errorf("no second range asked for while the first was open: ranges are not read at once")
			err = errors.New("gate timeout")
		}
	})
	if err != nil {
		return 0, err
	}
	return b.ReadCloser.Read(p)
}

// TestMirrorSourceIgnoresRange: a source that answers a Range request with
// 200 and the whole blob is read by that one GET, once.
func TestMirrorSourceIgnoresRange(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	layer := oneLayer(t, l, 2<<20)
	lock := l.lock(t, []string{"app:1.0"})
	want := sum(blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest))
	l.resetStats()
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.Header.Del("Range")
		return http.DefaultTransport.RoundTrip(req)
	})
	if _, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(withRanges(4, 256<<10, 16<<10), WithTransport(rt))...); err != nil {
		t.Fatalf("mirror: %v", err)
	}
	if got, n := served(l.src), l.src.Stats().Get(http.MethodGet, netem.ClassBlobs).Requests; got != want || n != 2 {
		t.Errorf("source served %d bytes in %d GETs, want %d in 2 (config and layer, once)", got, n, want)
	}
	for name, r := range l.regions {
		if code, _ := headBlob(t, r.Addr(), "app", layer); code != http.StatusOK {
			t.Errorf("region %s: HEAD layer %d, want 200", name, code)
		}
	}
}

// cutBody ends with an unexpected EOF after n bytes.
type cutBody struct {
	io.ReadCloser
	n int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.ReadCloser.Read(p)
	b.n -= int64(n)
	return n, err
}

// cutRange cuts the body of GETs whose Range starts at from after n bytes,
// the first times of them (all of them when times < 0).
func cutRange(from, n int64, times int) http.RoundTripper {
	var cuts atomic.Int64
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil && rangeStart(req) == from && (times < 0 || cuts.Add(1) <= int64(times)) {
			resp.Body = &cutBody{ReadCloser: resp.Body, n: n}
		}
		return resp, err
	})
}

// TestMirrorRangeCutResumes: a range cut mid-way resumes from where it
// stopped; the blob lands whole and the source serves the cut half twice
// at most.
func TestMirrorRangeCutResumes(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	layer := oneLayer(t, l, 3<<20)
	lock := l.lock(t, []string{"app:1.0"})
	want := sum(blobSizes(t, l.src.Addr(), "app", lock.Images[0].Digest))
	l.resetStats()
	const size = 256 << 10
	if _, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(withRanges(4, size, 16<<10), WithTransport(cutRange(2*size, size/2, 1)))...); err != nil {
		t.Fatalf("mirror: %v", err)
	}
	if got := served(l.src); got < want || got > want+size {
		t.Errorf("source served %d bytes, want %d plus at most one range", got, want)
	}
	var resumed bool
	for _, e := range l.src.Log() {
		resumed = resumed || (e.Ref == layer && e.Status == http.StatusPartialContent && strings.HasPrefix(e.Path, "/v2/app/blobs/") && e.BytesOut > 0 && e.BytesOut < size/2+1)
	}
	if !resumed {
		t.Errorf("no GET resumed the cut range (at most half a range)")
	}
	if code, _ := headBlob(t, l.regions["r1"].Addr(), "app", layer); code != http.StatusOK {
		t.Errorf("HEAD layer %d, want 200", code)
	}
}

// TestMirrorRangeFailsCleanly: a range that gives no byte, every time, fails the
// blob after the retries: the error names the blob and where it stopped,
// the region holds no blob, no goroutine is left (TestMain checks).
func TestMirrorRangeFailsCleanly(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	layer := oneLayer(t, l, 3<<20)
	lock := l.lock(t, []string{"app:1.0"})
	const size = 256 << 10
	_, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(withRanges(4, size, 16<<10), WithTransport(cutRange(2*size, 0, -1)))...)
	if err == nil || !strings.Contains(err.Error(), layer) || !strings.Contains(err.Error(), "attempts") {
		t.Fatalf("mirror: %v; want an error naming the layer and its attempts", err)
	}
	if code, _ := headBlob(t, l.regions["r1"].Addr(), "app", layer); code != http.StatusNotFound {
		t.Errorf("HEAD layer %d, want 404", code)
	}
}

// TestMirrorRangedMemoryBounded: behind a slow region, ranges are read
// ahead of the upload by at most ranges x range size (plus the upload's
// few chunks), not the whole blob.
func TestMirrorRangedMemoryBounded(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	oneLayer(t, l, 2<<20)
	lock := l.lock(t, []string{"app:1.0"})
	var read, sent, ahead atomic.Int64
	track := func() {
		for d := read.Load() - sent.Load(); d > ahead.Load(); d = read.Load() - sent.Load() {
			if ahead.CompareAndSwap(ahead.Load(), d) {
				return
			}
		}
	}
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPut && req.Body != nil {
			req = req.Clone(req.Context())
			// Paced here, not by the region: socket buffers would take
			// the whole blob at once.
			slow := netem.Link{BytesPerSec: 4 << 20}.Reader(req.Context(), req.Body)
			req.Body = &countBody{ReadCloser: readCloser{slow, req.Body}, n: &sent, after: track}
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil && rangeStart(req) >= 0 {
			resp.Body = &countBody{ReadCloser: resp.Body, n: &read, after: track}
		}
		return resp, err
	})
	const ranges, size, chunk = 4, 64 << 10, 16 << 10
	if _, err := Mirror(t.Context(), lock, l.source(), l.inv(), l.opts(withRanges(ranges, size, chunk), WithTransport(rt))...); err != nil {
		t.Fatalf("mirror: %v", err)
	}
	// The window, the upload's channel (depth 4) and its current chunk,
	// and one chunk in the hands of each fetcher.
	if limit := int64(ranges*size + (4+1+ranges)*chunk); ahead.Load() > limit {
		t.Errorf("source read %d bytes ahead of the upload, want at most %d", ahead.Load(), limit)
	}
	if read.Load() < 2<<20*99/100 {
		t.Errorf("source read %d bytes: the ranged path was not taken", read.Load())
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

type countBody struct {
	io.ReadCloser
	n     *atomic.Int64
	after func()
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	b.after()
	return n, err
}
