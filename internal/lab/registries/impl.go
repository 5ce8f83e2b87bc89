package registries

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // the "filesystem" driver
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/sirupsen/logrus"
)

var quietLogrus sync.Once

// newDistribution builds a distribution v3 App over the filesystem driver
// in dir. distribution logs through logrus' standard logger, which only it
// uses in this program: its output is discarded (once, process-wide).
func newDistribution(ctx context.Context, dir string) (h http.Handler, closeFn func() error, err error) {
	quietLogrus.Do(func() {
		logrus.SetOutput(io.Discard)
		logrus.SetLevel(logrus.PanicLevel)
	})
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"filesystem": configuration.Parameters{"rootdirectory": filepath.Join(dir, "distribution")},
			// No background purger goroutine: nothing to clean in a lab's lifetime.
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
			"delete":      configuration.Parameters{"enabled": true},
			"cache":       configuration.Parameters{"blobdescriptor": "inmemory"},
			// The filesystem driver cannot redirect; say so instead of probing.
			"redirect": configuration.Parameters{"disable": true},
		},
	}
	cfg.HTTP.Secret = "drover-lab" // upload state HMAC; a fixed value avoids a warning per App
	// Foreign (non-distributable) layers may point anywhere over HTTP(S),
	// as Windows base images point at Microsoft's servers.
	cfg.Validation.Manifests.URLs.Allow = []string{`^https?://`}
	// NewApp panics on bad configuration; ours is fixed, so a panic is a bug,
	// but turn it into an error rather than crash the lab.
	defer func() {
		if p := recover(); p != nil {
			err = panicError{p}
		}
	}()
	app := handlers.NewApp(ctx, cfg)
	return app, app.Shutdown, nil
}

type panicError struct{ v any }

func (p panicError) Error() string { return "registry panicked: " + slog.AnyValue(p.v).String() }

// newGGCR builds go-containerregistry's registry with blobs on disk under
// dir (manifests stay in memory, as pkg/registry keeps them).
func newGGCR(dir string, logger *slog.Logger) (http.Handler, error) {
	blobs := filepath.Join(dir, "ggcr-blobs")
	if err := os.MkdirAll(blobs, 0o750); err != nil {
		return nil, err
	}
	return registry.New(
		registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)),
		registry.Logger(log.New(slogWriter{logger}, "", 0)),
	), nil
}

// slogWriter turns log.Logger lines into debug records.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug("ggcr registry", "line", strings.TrimSpace(string(p)))
	return len(p), nil
}
