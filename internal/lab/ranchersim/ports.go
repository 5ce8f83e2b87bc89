package ranchersim

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// hostPort is a published host port of a launch config: "8080:80/tcp" publishes
// container port 80 on host port 8080, "10.0.0.1:8080:80/udp" on one address. A
// port without a public part ("80/tcp") is published on a random host port, which
// Cattle picks free, so it holds nothing here.
type hostPort struct {
	ip       string
	public   int
	protocol string
}

func (p hostPort) String() string { return strconv.Itoa(p.public) + "/" + p.protocol }

// parsePort reads one launchConfig.ports entry as Cattle spells it.
func parsePort(s string) (hostPort, bool, error) {
	spec, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return hostPort{}, false, fmt.Errorf("port %q: protocol %q is not tcp or udp", s, proto)
	}
	parts := strings.Split(spec, ":")
	var ip, public string
	switch len(parts) {
	case 1:
		return hostPort{}, false, nil
	case 2:
		public = parts[0]
	case 3:
		ip, public = parts[0], parts[1]
		if net.ParseIP(ip) == nil {
			return hostPort{}, false, fmt.Errorf("port %q: %q is not an IP address", s, ip)
		}
	default:
		return hostPort{}, false, fmt.Errorf("port %q: want [IP:]PUBLIC:PRIVATE[/PROTOCOL]", s)
	}
	n, err := strconv.Atoi(public)
	if err != nil || n < 1 || n > 65535 {
		return hostPort{}, false, fmt.Errorf("port %q: public port %q is not 1-65535", s, public)
	}
	if priv, err := strconv.Atoi(parts[len(parts)-1]); err != nil || priv < 1 || priv > 65535 {
		return hostPort{}, false, fmt.Errorf("port %q: private port is not 1-65535", s)
	}
	return hostPort{ip: ip, public: n, protocol: proto}, true, nil
}

// hostPorts returns the published host ports of a launch config. Entries the
// simulator cannot read are skipped (they were validated when the service was made).
func hostPorts(lc map[string]any) []hostPort {
	raw, _ := lc["ports"].([]any)
	var out []hostPort
	for _, x := range raw {
		s, _ := x.(string)
		if p, ok, err := parsePort(s); ok && err == nil {
			out = append(out, p)
		}
	}
	return out
}

// holdsPorts reports whether c holds its host ports: as in Cattle's allocator (the
// used ports of a host, plus the reservation an allocated container being created
// holds), a container does from its allocation while creating, starting or running.
func (c *container) holdsPorts() bool {
	return c.removed == nil && (c.state == "creating" || c.state == "starting" || c.state == "running")
}

// portsFree reports whether h can take a container publishing want: no container on
// h holds one of the same public port and protocol on the same address (Cattle's
// PortsConstraint). Called with s.mu held.
func (h *Host) portsFree(want []hostPort) bool {
	if len(want) == 0 {
		return true
	}
	for _, c := range h.p.containers {
		if c.host != h || !c.holdsPorts() {
			continue
		}
		for _, used := range c.ports {
			for _, p := range want {
				if p.public == used.public && p.protocol == used.protocol && p.ip == used.ip {
					return false
				}
			}
		}
	}
	return true
}

// errPortsTaken is Cattle's allocation failure when no eligible host has the ports
// free (PortsConstraint.toString wrapped by FailedToAllocate).
func errPortsTaken(want []hostPort) error {
	s := make([]string, 0, len(want))
	for _, p := range want {
		s = append(s, p.String())
	}
	return errors.New("Allocation failed: host needs ports " + strings.Join(s, ", ") + " available") //nolint:staticcheck // ST1005: Cattle's own wording
}
