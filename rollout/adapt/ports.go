package adapt

import (
	"encoding/json"
	"strings"

	"github.com/drover-dev/drover/rancher"
)

// hostPortsOf returns the launch config's ports that publish a host port:
// "8080:80/tcp" or "10.0.0.1:8080:80"; "80/tcp" (a container port only)
// holds nothing on the host.
func hostPortsOf(lc *rancher.LaunchConfig) []string {
	raw, ok := lc.Get("ports")
	if !ok {
		return nil
	}
	var ports []string
	if json.Unmarshal(raw, &ports) != nil {
		return nil
	}
	var out []string
	for _, p := range ports {
		if strings.Contains(p, ":") {
			out = append(out, p)
		}
	}
	return out
}
