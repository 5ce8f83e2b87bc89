package registries

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// foreignPrefix is where every lab registry serves generated foreign
// (non-distributable) layer blobs, outside the registry API, as Microsoft's
// servers serve Windows base layers: GET /lab/foreign/<fileSize>/<key>.
const foreignPrefix = "/lab/foreign/"

var foreignKey = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*$`)

// maxForeign bounds what a URL may ask the server to generate.
const maxForeign = 64 << 30

// foreignURL is where a registry at addr serves the foreign layer key.
func foreignURL(addr, key string, fileSize int64) string {
	return fmt.Sprintf("http://%s%s%d/%s", addr, foreignPrefix, fileSize, key)
}

// withForeign serves foreign layer blobs next to h.
func withForeign(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, foreignPrefix)
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		sizeStr, key, _ := strings.Cut(rest, "/")
		size, err := strconv.ParseInt(sizeStr, 10, 64)
		if err != nil || size < 0 || size > maxForeign || !foreignKey.MatchString(key) || strings.Contains(key, "..") {
			http.NotFound(w, r)
			return
		}
		l := newGenLayer(key, size, types.DockerForeignLayer)
		n, err := l.Size()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		d, _ := l.Digest() // cached by Size
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		w.Header().Set("Docker-Content-Digest", d.String())
		if r.Method == http.MethodHead {
			return
		}
		rc, _ := l.Compressed()
		defer rc.Close()
		_, _ = io.Copy(w, rc)
	})
}
