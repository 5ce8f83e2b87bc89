package dockersim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/drover-dev/drover/internal/lab/netem"
)

// Option configures a Host in Start.
type Option func(*config) error

type config struct {
	name         string
	link         netem.Link
	transport    http.RoundTripper
	extractRate  int64
	diskCapacity int64
	maxDownloads int
	platform     platform
	osVersion    string // Windows build, "10.0.17763[.rev]"
	logger       *slog.Logger
}

func defaultConfig() config {
	return config{
		maxDownloads: 3,
		platform:     platform{OS: "linux", Architecture: "amd64"},
		logger:       slog.New(slog.DiscardHandler),
	}
}

// WithName sets the host's name: it appears in /info (Name), in the
// User-Agent of registry requests ("drover-lab-host/<name>") and in errors.
// The default is "dockersim-<port>".
func WithName(name string) Option {
	return func(c *config) error {
		if name == "" || strings.ContainsAny(name, " \t\r\n/") {
			return fmt.Errorf("dockersim: invalid host name %q", name)
		}
		c.name = name
		return nil
	}
}

// WithLink shapes the host's link to registries: every registry request
// waits l.Latency and response bodies (manifests, blobs) are throttled to
// l.BytesPerSec, one budget shared by all concurrent downloads of the host.
// The default is the zero Link (unshaped).
func WithLink(l netem.Link) Option {
	return func(c *config) error {
		if l.BytesPerSec < 0 || l.Latency < 0 {
			return fmt.Errorf("dockersim: negative link %+v", l)
		}
		c.link = l
		return nil
	}
}

// WithTransport sets the base RoundTripper used to reach registries (the
// link from WithLink is applied on top). The default is a private
// http.Transport.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return errors.New("dockersim: nil transport")
		}
		c.transport = rt
		return nil
	}
}

// WithExtractRate sets how fast the host "extracts" layers, in bytes per
// second of compressed layer: extracting a layer of n bytes takes
// n/bytesPerSec (measured with the time package, so testing/synctest fakes
// it). The default is 0: extraction is instant.
func WithExtractRate(bytesPerSec int64) Option {
	return func(c *config) error {
		if bytesPerSec < 0 {
			return fmt.Errorf("dockersim: negative extract rate %d", bytesPerSec)
		}
		c.extractRate = bytesPerSec
		return nil
	}
}

// WithDiskCapacity limits the bytes of layers the host can hold (compressed
// layer sizes, counted as they download). A pull that would exceed it fails
// mid-stream with a "no space left on device" error. The default is 0:
// unlimited.
func WithDiskCapacity(bytes int64) Option {
	return func(c *config) error {
		if bytes < 0 {
			return fmt.Errorf("dockersim: negative disk capacity %d", bytes)
		}
		c.diskCapacity = bytes
		return nil
	}
}

// WithMaxConcurrentDownloads sets how many layers one pull downloads at
// once; the others report "Waiting" (dockerd's max-concurrent-downloads).
// The default is 3.
func WithMaxConcurrentDownloads(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("dockersim: max concurrent downloads %d < 1", n)
		}
		c.maxDownloads = n
		return nil
	}
}

// WithPlatform sets the host's platform ("os/arch" or "os/arch/variant"),
// used to pick a manifest from an index when a pull names no platform and
// reported by /version and /info. The default is "linux/amd64".
func WithPlatform(p string) Option {
	return func(c *config) error {
		pl, err := parsePlatform(p)
		if err != nil {
			return err
		}
		c.platform = pl
		return nil
	}
}

// WithOSVersion makes a Windows host (WithPlatform("windows/amd64")) of
// build v ("10.0.17763", a revision may follow): /info reports it as
// OSVersion and in KernelVersion as a Windows daemon does, and a pull from
// an index takes the entry whose os.version has that build, or the first
// windows entry when none has (as Windows dockerd does; a container of
// another build then needs Hyper-V isolation). The default is no build:
// the first entry of the host's os/arch.
func WithOSVersion(v string) Option {
	return func(c *config) error {
		if windowsBuild(v) == "" {
			return fmt.Errorf("dockersim: invalid os version %q: want major.minor.build, e.g. 10.0.17763", v)
		}
		c.osVersion = v
		return nil
	}
}

// windowsBuild is "10.0.17763" of "10.0.17763[.rev]"; "" when v is not one.
func windowsBuild(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) < 3 || len(parts) > 4 {
		return ""
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	return strings.Join(parts[:3], ".")
}

// WithLogger sets the logger for request and pull events (never
// credentials). The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("dockersim: nil logger")
		}
		c.logger = l
		return nil
	}
}

type platform struct {
	OS, Architecture, Variant string
}

func (p platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

func parsePlatform(s string) (platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return platform{}, fmt.Errorf("dockersim: invalid platform %q: want os/arch[/variant]", s)
	}
	p := platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}
