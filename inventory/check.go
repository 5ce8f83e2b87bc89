package inventory

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/drover-dev/drover/internal/pemfile"
)

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	envVarRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)

// checkName accepts environment and region names: they appear in paths,
// metric labels and file names.
func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid name %s: use up to 63 letters, digits, '.', '_' and '-', starting with a letter or digit", quote(name))
	}
	return nil
}

// checkRegistryAddr accepts host[:port], as image references spell a registry.
func checkRegistryAddr(a string) error {
	if strings.Contains(a, "://") {
		return fmt.Errorf("%s: want host[:port] without a scheme (insecure: true allows plain HTTP)", quote(a))
	}
	if strings.ContainsAny(a, "/@?# ") {
		return fmt.Errorf("%s: want host[:port] only, no path or credentials", quote(a))
	}
	host, port := a, ""
	if strings.Contains(a, ":") {
		h, p, err := net.SplitHostPort(a)
		if err != nil {
			return fmt.Errorf("%s: want host[:port]", quote(a))
		}
		host, port = h, p
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%s: port must be 1-65535", quote(a))
		}
	}
	if net.ParseIP(host) == nil && !hostnameRE.MatchString(host) {
		return fmt.Errorf("%s: %s is not a host name or IP address", quote(a), quote(host))
	}
	return nil
}

// checkRancherURL accepts http(s)://host[:port][/path] without credentials.
func checkRancherURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.User != nil {
		return errors.New("credentials in the URL: name env vars in credentials instead")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s: want http:// or https://", quote(s))
	}
	if u.Host == "" {
		return fmt.Errorf("%s: no host", quote(s))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		// Only scheme and host: a query may carry a token.
		return fmt.Errorf("%s: no query or fragment", quote(u.Scheme+"://"+u.Host))
	}
	return nil
}

// endpoint is a parsed Docker endpoint.
type endpoint struct {
	scheme   string // unix, tcp or npipe
	key      string // normalized, for uniqueness
	loopback bool   // tcp to 127.0.0.0/8, ::1 or localhost
}

// CheckDockerEndpoint reports whether s is a Docker endpoint the tools
// accept, as a host's docker: field is checked: unix:///path,
// tcp://host:port or npipe:////./pipe/name. Flags that take an endpoint
// (prewarm seed --docker) check it with this.
func CheckDockerEndpoint(s string) error {
	_, err := parseDockerEndpoint(s)
	return err
}

// npipePathRE is a named pipe's path: //./pipe/NAME or //SERVER/pipe/NAME.
var npipePathRE = regexp.MustCompile(`^//(\.|[A-Za-z0-9][A-Za-z0-9.-]*)/pipe/[^/\\]+$`)

func parseDockerEndpoint(s string) (endpoint, error) {
	if s == "" {
		return endpoint{}, errors.New("required (unix:///var/run/docker.sock, tcp://host:2376 or npipe:////./pipe/docker_engine)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return endpoint{}, fmt.Errorf("%s is not a URL: want unix:///path, tcp://host:port or npipe:////./pipe/name", quote(s))
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return endpoint{}, fmt.Errorf("%s: want an absolute socket path, unix:///var/run/docker.sock", quote(s))
		}
		return endpoint{scheme: "unix", key: "unix://" + u.Path}, nil
	case "tcp":
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return endpoint{}, fmt.Errorf("%s: want tcp://host:port", quote(s))
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return endpoint{}, fmt.Errorf("%s: port must be 1-65535", quote(s))
		}
		if net.ParseIP(host) == nil && !hostnameRE.MatchString(host) {
			return endpoint{}, fmt.Errorf("%s: %s is not a host name or IP address", quote(s), quote(host))
		}
		ip := net.ParseIP(host)
		lb := strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
		return endpoint{scheme: "tcp", key: "tcp://" + strings.ToLower(net.JoinHostPort(host, port)), loopback: lb}, nil
	case "npipe":
		// A Windows named pipe, as Docker writes it: npipe:// then the
		// pipe's path //./pipe/NAME (or //SERVER/pipe/NAME). Pipe names
		// are case-insensitive.
		if u.Host != "" || u.User != nil || u.RawQuery != "" || !npipePathRE.MatchString(u.Path) {
			return endpoint{}, fmt.Errorf("%s: want a named pipe, npipe:////./pipe/docker_engine", quote(s))
		}
		return endpoint{scheme: "npipe", key: "npipe://" + strings.ToLower(u.Path)}, nil
	default:
		return endpoint{}, fmt.Errorf("%q: scheme %q: want unix://, tcp:// or npipe://", s, u.Scheme)
	}
}

// ReadDockerConfig returns the contents of the docker config file
// credentials.dockerConfig names: a regular file (a FIFO would block the
// read) of at most MaxDockerConfigBytes, read whole only then.
func ReadDockerConfig(path string) ([]byte, error) {
	// Stat before opening: opening a FIFO for reading would wait for a writer.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (want a docker config.json)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, path, MaxDockerConfigBytes)
}

// checkCAFile reads a PEM bundle of at least one certificate.
func checkCAFile(path string) error {
	_, err := loadCAPool(path)
	return err
}

func loadCAPool(path string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if err := pemfile.AppendCerts(pool, path); err != nil {
		return nil, err
	}
	return pool, nil
}

func checkKeyPair(cert, key string) error {
	if _, err := pemfile.KeyPair(cert, key); err != nil {
		return fmt.Errorf("load %s and %s: %w", cert, key, err)
	}
	return nil
}

// isTCP reports whether a Docker endpoint is tcp:// (TLS applies).
func isTCP(s string) bool { return strings.HasPrefix(s, "tcp://") }
