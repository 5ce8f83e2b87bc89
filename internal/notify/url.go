package notify

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/drover-dev/drover/internal/shown"
)

// ErrCleartext is an http:// webhook URL to a host other than loopback
// without Target.Insecure: its token would cross the network in clear.
var ErrCleartext = errors.New("plain HTTP to a host other than loopback would send the webhook's token in clear")

// CheckURL checks a webhook URL as New does: http or https, with a host;
// http:// only to a loopback host (127.0.0.0/8, ::1, localhost: the bytes
// never leave the machine) unless insecure, else an error wrapping
// ErrCleartext. The URL is a secret: errors name at most its scheme and
// host, never its user, path or query.
func CheckURL(rawURL string, insecure bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("not an http(s) URL")
	}
	if u.Scheme == "http" && !insecure && !loopback(u.Hostname()) {
		return fmt.Errorf("http://%s: %w", shown.Clip(u.Host, 67), ErrCleartext)
	}
	return nil
}

// loopback reports whether host is localhost or a loopback IP address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
