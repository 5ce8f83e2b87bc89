package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestAccept lists every manifest type Drover copies.
var manifestAccept = strings.Join([]string{
	string(types.OCIImageIndex), string(types.OCIManifestSchema1),
	string(types.DockerManifestList), string(types.DockerManifestSchema2),
}, ", ")

const maxManifest = 8 << 20

// manifest is one manifest's exact bytes.
type manifest struct {
	Digest    string
	MediaType string
	Raw       []byte
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// headManifest reports whether repo holds the manifest ref (tag or digest).
func (c *client) headManifest(ctx context.Context, repo, ref string) (bool, error) {
	resp, err := c.do(ctx, http.MethodHead, c.url("/v2/"+repo+"/manifests/"+ref, nil),
		http.Header{"Accept": {manifestAccept}}, nil, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// getManifest fetches repo's manifest ref; when ref is a digest, the bytes
// must hash to it.
func (c *client) getManifest(ctx context.Context, repo, ref string) (*manifest, error) {
	resp, err := c.do(ctx, http.MethodGet, c.url("/v2/"+repo+"/manifests/"+ref, nil),
		http.Header{"Accept": {manifestAccept}}, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s@%s from %s: %w", repo, ref, c.addr, err)
	}
	if len(raw) > maxManifest {
		return nil, fmt.Errorf("manifest %s@%s from %s: larger than %d bytes", repo, ref, c.addr, maxManifest)
	}
	m := &manifest{Digest: digestOf(raw), MediaType: resp.Header.Get("Content-Type"), Raw: raw}
	if strings.HasPrefix(ref, "sha256:") && m.Digest != ref {
		return nil, fmt.Errorf("manifest %s@%s from %s: content hashes to %s", repo, ref, c.addr, m.Digest)
	}
	if m.MediaType == "" || m.MediaType == "application/json" {
		m.MediaType = sniffMediaType(raw)
	}
	return m, nil
}

// putManifest stores m under ref (a tag or its digest).
func (c *client) putManifest(ctx context.Context, repo, ref string, m *manifest) error {
	resp, err := c.do(ctx, http.MethodPut, c.url("/v2/"+repo+"/manifests/"+ref, nil),
		http.Header{"Content-Type": {m.MediaType}}, m.Raw, http.StatusCreated, http.StatusOK)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if d := resp.Header.Get("Docker-Content-Digest"); d != "" && d != m.Digest {
		return fmt.Errorf("put manifest %s:%s on %s: registry stored %s, want %s", repo, ref, c.addr, d, m.Digest)
	}
	return nil
}

// headBlob reports whether repo holds blob digest.
func (c *client) headBlob(ctx context.Context, repo, digest string) (bool, error) {
	resp, err := c.do(ctx, http.MethodHead, c.url("/v2/"+repo+"/blobs/"+digest, nil), nil, nil,
		http.StatusOK, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// startUpload opens an upload session in repo, asking the registry to mount
// digest from repository from instead when from is set. mounted is true when
// the registry did (201); otherwise location is the session to PUT to.
func (c *client) startUpload(ctx context.Context, repo, digest, from string) (mounted bool, location string, err error) {
	q := url.Values{}
	if from != "" {
		q.Set("mount", digest)
		q.Set("from", from)
	}
	u := c.url("/v2/"+repo+"/blobs/uploads/", q)
	resp, err := c.do(ctx, http.MethodPost, u, http.Header{"Content-Length": {"0"}}, nil,
		http.StatusCreated, http.StatusAccepted)
	if err != nil {
		return false, "", err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		return true, "", nil
	}
	loc, err := resp.Location()
	if err != nil {
		return false, "", fmt.Errorf("POST %s/v2/%s/blobs/uploads/: no upload location: %w", c.addr, repo, err)
	}
	return false, loc.String(), nil
}

// putBlob completes the upload session at location with body (exactly size
// bytes) in one monolithic PUT. It is not retried here: body is a stream.
func (c *client) putBlob(ctx context.Context, location, digest string, size int64, body io.Reader) error {
	u, err := url.Parse(location)
	if err != nil {
		return fmt.Errorf("upload location %q: %w", location, err)
	}
	q := u.Query()
	q.Set("digest", digest)
	u.RawQuery = q.Encode()
	// The watchdog is reset whenever the body moves; it fires when the
	// registry stops taking bytes, or gives no answer once it has them all.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wd := time.AfterFunc(c.o.stall, cancel)
	defer wd.Stop()
	req, err := http.NewRequestWithContext(wctx, http.MethodPut, u.String(), io.NopCloser(&resetReader{r: body, wd: wd, d: c.o.stall}))
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() == nil && wctx.Err() != nil {
			return fmt.Errorf("PUT %s%s: stalled for %v: %w", c.addr, u.Path, c.o.stall, err)
		}
		return fmt.Errorf("PUT %s%s: %w", c.addr, u.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		herr := readHTTPError(c.addr, req, resp)
		if resp.StatusCode == http.StatusUnauthorized {
			c.mu.Lock()
			c.broken = herr
			c.mu.Unlock()
		}
		return herr
	}
	return nil
}

// resetReader resets a watchdog whenever bytes move.
type resetReader struct {
	r  io.Reader
	wd *time.Timer
	d  time.Duration
}

func (r *resetReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.wd.Reset(r.d)
	}
	return n, err
}

// getBlob opens repo's blob digest (size bytes) from offset. start is where the returned
// body begins: offset when the registry honoured the Range, else 0.
func (c *client) getBlob(ctx context.Context, repo, digest string, offset, size int64) (body io.ReadCloser, start int64, err error) {
	hdr := http.Header{}
	if offset > 0 {
		hdr.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-"+strconv.FormatInt(size-1, 10))
	}
	resp, err := c.do(ctx, http.MethodGet, c.url("/v2/"+repo+"/blobs/"+digest, nil), hdr, nil,
		http.StatusOK, http.StatusPartialContent)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode == http.StatusPartialContent {
		var from int64
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-", &from); err != nil || from != offset {
			resp.Body.Close()
			return nil, 0, fmt.Errorf("GET %s/v2/%s/blobs/%s: Content-Range %q does not start at %d",
				c.addr, repo, digest, resp.Header.Get("Content-Range"), offset)
		}
		return resp.Body, offset, nil
	}
	return resp.Body, 0, nil
}

// getRange opens bytes [from, to) of repo's blob digest. ranged is false
// when the registry ignored the Range and answered 200 with the whole blob
// (body then starts at byte 0).
func (c *client) getRange(ctx context.Context, repo, digest string, from, to int64) (body io.ReadCloser, ranged bool, err error) {
	hdr := http.Header{"Range": {"bytes=" + strconv.FormatInt(from, 10) + "-" + strconv.FormatInt(to-1, 10)}}
	resp, err := c.do(ctx, http.MethodGet, c.url("/v2/"+repo+"/blobs/"+digest, nil), hdr, nil,
		http.StatusOK, http.StatusPartialContent)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, false, nil
	}
	var first, last int64
	if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/", &first, &last); err != nil || first != from || last != to-1 {
		resp.Body.Close()
		return nil, false, fmt.Errorf("GET %s/v2/%s/blobs/%s: Content-Range %q, want bytes %d-%d",
			c.addr, repo, digest, resp.Header.Get("Content-Range"), from, to-1)
	}
	return resp.Body, true, nil
}
