package registries

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// genLayer is a v1.Layer whose bytes are generated on every read, never
// held in memory: a tar holding one file of fileSize ChaCha8 bytes seeded
// from key, wrapped in gzip with stored (uncompressed) blocks, so the blob
// is a real gzip'd tar any client can extract but costs no compression
// work. The same key and size always give the same bytes. Digest, DiffID
// and Size take one generating pass the first time and are cached
// process-wide.
type genLayer struct {
	key      string
	fileSize int64
	mt       types.MediaType
}

type layerSums struct {
	digest, diffID v1.Hash
	size           int64
}

type sumKey struct {
	key  string
	size int64
}

var sumCache sync.Map // sumKey -> *sumEntry

type sumEntry struct {
	once sync.Once
	sums layerSums
	err  error
}

var _ v1.Layer = (*genLayer)(nil)

func newGenLayer(key string, fileSize int64, mt types.MediaType) *genLayer {
	return &genLayer{key: key, fileSize: max(fileSize, 0), mt: mt}
}

func (l *genLayer) sums() (layerSums, error) {
	v, _ := sumCache.LoadOrStore(sumKey{l.key, l.fileSize}, &sumEntry{})
	e := v.(*sumEntry)
	e.once.Do(func() {
		dh, uh := sha256.New(), sha256.New()
		gz := newStoredGzip(io.TeeReader(l.tarStream(), uh))
		n, err := io.Copy(dh, gz)
		if err != nil {
			e.err = fmt.Errorf("generate layer %s: %w", l.key, err)
			return
		}
		e.sums = layerSums{digest: sum(dh), diffID: sum(uh), size: n}
	})
	return e.sums, e.err
}

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

func (l *genLayer) Digest() (v1.Hash, error) { s, err := l.sums(); return s.digest, err }
func (l *genLayer) DiffID() (v1.Hash, error) { s, err := l.sums(); return s.diffID, err }
func (l *genLayer) Size() (int64, error)     { s, err := l.sums(); return s.size, err }

func (l *genLayer) MediaType() (types.MediaType, error) { return l.mt, nil }

func (l *genLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(newStoredGzip(l.tarStream())), nil
}

func (l *genLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(l.tarStream()), nil
}

// epoch is the fixed timestamp of everything generated.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// tarStream is the layer's uncompressed content.
func (l *genLayer) tarStream() io.Reader {
	seed := seedOf(l.key)
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	// Writing a header to a bytes.Buffer cannot fail for these values.
	_ = tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     "lab/" + hex.EncodeToString(seed[:8]) + ".bin",
		Size:     l.fileSize,
		Mode:     0o644,
		ModTime:  epoch,
		Format:   tar.FormatPAX,
	})
	pad := (512 - l.fileSize%512) % 512
	return io.MultiReader(
		bytes.NewReader(hdr.Bytes()),
		io.LimitReader(rand.NewChaCha8(seed), l.fileSize),
		io.LimitReader(zeroReader{}, pad+1024), // end-of-archive: two zero blocks
	)
}

func seedOf(key string) [32]byte { return sha256.Sum256([]byte("drover-lab/" + key)) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// storedGzip gzips src on demand (no goroutine, bounded memory) with
// gzip.NoCompression: valid gzip, raw-copy speed.
type storedGzip struct {
	src   io.Reader
	buf   bytes.Buffer
	zw    *gzip.Writer
	chunk []byte
	done  bool
}

func newStoredGzip(src io.Reader) *storedGzip {
	g := &storedGzip{src: src, chunk: make([]byte, 256<<10)}
	g.zw, _ = gzip.NewWriterLevel(&g.buf, gzip.NoCompression) // level is valid
	return g
}

func (g *storedGzip) Read(p []byte) (int, error) {
	for g.buf.Len() == 0 {
		if g.done {
			return 0, io.EOF
		}
		n, err := io.ReadFull(g.src, g.chunk)
		if n > 0 {
			if _, werr := g.zw.Write(g.chunk[:n]); werr != nil {
				return 0, werr
			}
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			if cerr := g.zw.Close(); cerr != nil {
				return 0, cerr
			}
			g.done = true
		case err != nil:
			return 0, err
		}
	}
	return g.buf.Read(p)
}
