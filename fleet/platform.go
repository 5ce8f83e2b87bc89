package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/drover-dev/drover/inventory"
)

// ErrNoPlatform is an image whose index has no entry the host can run (for a
// Windows host, none of its os/arch with the host's build). It is not
// retried: the same index fails the same way. The *PlatformError that
// carries it names the host's platform and the index's.
var ErrNoPlatform = errors.New("no image for the host's platform")

// Platform is what a host's daemon runs, as its /info reports it.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
	// OSVersion is a Windows host's build, major.minor.build ("10.0.17763");
	// "" on other hosts.
	OSVersion string `json:"osVersion,omitempty"`
}

// String is "os/arch[/variant]", then a Windows host's build:
// "windows/amd64 10.0.17763". "" when unknown.
func (p Platform) String() string {
	return inventory.LockManifest{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}.String()
}

// PlatformOf reads a daemon's /info answer: OSType, Architecture (uname's
// x86_64, aarch64... become Go's amd64, arm64...), and for Windows the build
// from OSVersion ("10.0.17763" or "10.0.17763.1234") or, from daemons that
// leave it empty, KernelVersion ("10.0 17763 (17763.1.amd64fre.rs5_release.180914-1434)").
func PlatformOf(info system.Info) Platform {
	p := Platform{OS: info.OSType}
	p.Architecture, p.Variant = normArch(info.Architecture)
	if p.OS == "windows" {
		if p.OSVersion = Build(info.OSVersion); p.OSVersion == "" {
			p.OSVersion = kernelBuild(info.KernelVersion)
		}
	}
	return p
}

// Build is the major.minor.build part of a Windows os.version
// ("10.0.17763.1234" -> "10.0.17763"): process isolation needs the same
// build, the revision may differ. "" when v has no build.
func Build(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) < 3 || !allDigits(parts[0]) || !allDigits(parts[1]) || !allDigits(parts[2]) {
		return ""
	}
	return strings.Join(parts[:3], ".")
}

// kernelBuild reads "10.0 17763 (17763.1.amd64fre...)" as "10.0.17763".
func kernelBuild(k string) string {
	f := strings.Fields(k)
	if len(f) < 2 {
		return ""
	}
	return Build(f[0] + "." + f[1])
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// normArch maps uname machine names (what /info reports) to OCI
// architecture and variant.
func normArch(a string) (arch, variant string) {
	switch strings.ToLower(a) {
	case "x86_64", "x86-64", "amd64":
		return "amd64", ""
	case "aarch64", "arm64":
		return "arm64", ""
	case "armv7l", "armv7":
		return "arm", "v7"
	case "armv6l", "armv6":
		return "arm", "v6"
	case "i386", "i686", "386":
		return "386", ""
	}
	return strings.ToLower(a), ""
}

// Choose picks the entry of an index (inventory.LockImage.Entries) that a
// host of platform p can run: the same os and architecture (and variant
// when both name one); for a Windows host, the entry whose os.version has
// the host's build (the revision is ignored), or else one that names no
// os.version. ok is false when none fits. With no entries (a
// single-platform image) or an unknown host platform there is nothing to
// choose: the zero entry and true, and the daemon decides as it pulls.
func Choose(p Platform, entries []inventory.LockManifest) (inventory.LockManifest, bool) {
	if len(entries) == 0 || p.OS == "" {
		return inventory.LockManifest{}, true
	}
	var loose *inventory.LockManifest
	for i, e := range entries {
		arch, variant := normArch(e.Architecture)
		if e.Variant != "" {
			variant = e.Variant
		}
		if e.OS != p.OS || arch != p.Architecture || (p.Variant != "" && variant != "" && variant != p.Variant) {
			continue
		}
		if p.OS != "windows" || p.OSVersion == "" {
			return e, true
		}
		switch Build(e.OSVersion) {
		case p.OSVersion:
			return e, true
		case "":
			if loose == nil {
				loose = &entries[i]
			}
		}
	}
	if loose != nil {
		return *loose, true
	}
	return inventory.LockManifest{}, false
}

// PlatformError is an image whose index has no entry for a host.
type PlatformError struct {
	Host, Env, Image string
	Platform         Platform
	// Have are the index's entries.
	Have []inventory.LockManifest
}

func (e *PlatformError) Error() string {
	have := make([]string, len(e.Have))
	for i, m := range e.Have {
		have[i] = m.String()
	}
	why := ""
	if e.Platform.OS == "windows" && e.Platform.OSVersion != "" {
		why = " (a Windows container needs an image of the host's build)"
	}
	return fmt.Sprintf("%v: host %s is %s; %s has %s only%s", ErrNoPlatform, e.Host, e.Platform, e.Image, strings.Join(have, ", "), why)
}

func (e *PlatformError) Unwrap() error { return ErrNoPlatform }

// isPlatformMiss reports a daemon's answer that the index has nothing for
// its platform: dockerd's "no matching manifest for windows/amd64
// 10.0.20348 in the manifest list entries", the containerd store's "no
// match for platform in manifest", and a Linux daemon given a Windows-only
// image ("image operating system "windows" cannot be used on this platform").
func isPlatformMiss(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "no matching manifest for") || strings.Contains(msg, "no match for platform") ||
		strings.Contains(msg, "cannot be used on this platform")
}

// HostPlatforms remembers each host's platform, read from its /info once,
// for every call given it (WithHostPlatforms). Safe for concurrent use.
type HostPlatforms struct {
	mu sync.Mutex
	m  map[string]Platform
}

// NewHostPlatforms returns an empty HostPlatforms.
func NewHostPlatforms() *HostPlatforms { return &HostPlatforms{m: map[string]Platform{}} }

// Get returns host's platform if it was read.
func (c *HostPlatforms) Get(host string) (Platform, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[host]
	return p, ok
}

func (c *HostPlatforms) put(host string, p Platform) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[host] = p
}

// platform returns t's platform, reading /info the first time. An /info
// the daemon refuses leaves the platform unknown (the daemon then picks
// as it pulls); a host that does not answer is ErrUnreachable.
func (p *puller) platform(ctx context.Context, eng Engine, t Target) (Platform, error) {
	key := t.Env + "/" + t.Name + " " + t.Docker
	if pl, ok := p.o.platforms.Get(key); ok {
		return pl, nil
	}
	cctx, cancel := context.WithTimeout(ctx, p.o.timeout)
	defer cancel()
	res, err := eng.Info(cctx, client.InfoOptions{})
	if err != nil {
		err = p.callErr(ctx, cctx, err)
		if errors.Is(err, ErrUnreachable) || errors.Is(err, ErrInterrupted) {
			return Platform{}, fmt.Errorf("info: %w", err)
		}
		p.o.logger.Debug("daemon info unreadable, platform unknown", "host", t.Name, "err", err)
		p.o.platforms.put(key, Platform{})
		return Platform{}, nil
	}
	pl := PlatformOf(res.Info)
	p.o.platforms.put(key, pl)
	return pl, nil
}
