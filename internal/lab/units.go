package lab

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
)

// ParseBytes reads a size such as "512MiB", "1.5GB", "64k" or "1000".
// KB/MB/GB/TB are powers of 1000; KiB/MiB/GiB/TiB and the bare K/M/G/T
// are powers of 1024; B or no unit is bytes.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want a number and a unit such as 512MiB", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q", s, unit)
	}
	return int64(f * mult), nil
}

// ParseLink reads "10MB/s,50ms", "1GiB/s", "80ms" or "none" (unshaped).
func ParseLink(s string) (netem.Link, error) {
	var l netem.Link
	if strings.TrimSpace(s) == "none" {
		return l, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasSuffix(part, "/s"):
			n, err := ParseBytes(strings.TrimSuffix(part, "/s"))
			if err != nil {
				return l, fmt.Errorf("link %q: %w", s, err)
			}
			l.BytesPerSec = n
		default:
			d, err := time.ParseDuration(part)
			if err != nil || d < 0 {
				return l, fmt.Errorf("link %q: want RATE/s and/or a latency such as 50ms", s)
			}
			l.Latency = d
		}
	}
	return l, nil
}

// SetLink applies one `lab up --link` value to c:
//
//	source:LINK         the source registry
//	regions:LINK        every regional registry
//	region=NAME:LINK    one regional registry
//	hosts:LINK          every host's link to registries
//	host=NAME:LINK      one host
//
// LINK is as ParseLink reads it, e.g. 10MB/s,50ms.
func (c *Config) SetLink(spec string) error {
	target, linkStr, ok := strings.Cut(spec, ":")
	if !ok {
		return fmt.Errorf("link %q: want TARGET:LINK, e.g. region=eu-west:10MB/s,50ms", spec)
	}
	link, err := ParseLink(linkStr)
	if err != nil {
		return err
	}
	kind, name, named := strings.Cut(target, "=")
	switch {
	case kind == "source" && !named:
		c.SourceLink = link
	case kind == "regions" && !named:
		c.RegionLink = link
	case kind == "hosts" && !named:
		c.HostLink = link
	case kind == "region" && named && name != "":
		if c.RegionLinks == nil {
			c.RegionLinks = map[string]netem.Link{}
		}
		c.RegionLinks[name] = link
	case kind == "host" && named && name != "":
		if c.HostLinks == nil {
			c.HostLinks = map[string]netem.Link{}
		}
		c.HostLinks[name] = link
	default:
		return fmt.Errorf("link %q: target must be source, regions, region=NAME, hosts or host=NAME", spec)
	}
	return nil
}
