package rancher

import (
	"encoding/json"
	"math"
)

// HostInfo is the part of a host's info that this package reads: what the
// host's agent last reported (it refreshes it with its pings), so figures
// may be a minute or so old. Other keys (cpuInfo, memoryInfo, osInfo, ...)
// are ignored.
//
// Shape, from rancher/agent v1.6 core/hostinfo/disk.go and disk_info.go
// (the DiskCollector handlers/common.go builds with Unit 1048576): info is
// Cattle's host "info" json field (cattle v0.183.83
// resources/content/schema/base/host.json), a map of collector key to data.
type HostInfo struct {
	// DiskInfo is nil when the agent sent none (older agents, a failed
	// collector, or a host that has not pinged yet).
	DiskInfo *DiskInfo `json:"diskInfo"`
}

// UnmarshalJSON decodes what it can: an info of another shape (a string,
// a collector that failed halfway) leaves HostInfo empty rather than
// failing the host list it came in.
func (hi *HostInfo) UnmarshalJSON(b []byte) error {
	type plain HostInfo
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		*hi = HostInfo{}
		return nil //nolint:nilerr // best effort: the info is advisory
	}
	*hi = HostInfo(p)
	return nil
}

// DiskInfo is the part of the agent's diskInfo Drover reads. mountPoints
// is keyed by device ("/dev/sda1", "C:" on Windows), not by mount path: the
// agent does not say which device holds the Docker data root.
type DiskInfo struct {
	MountPoints map[string]DiskUsage `json:"mountPoints"`
}

// DiskUsage is one device's usage in MiB (whole MiB, rounded down by the
// agent); Percentage is the used share, 0 to 100.
type DiskUsage struct {
	Free       float64 `json:"free"`
	Total      float64 `json:"total"`
	Used       float64 `json:"used"`
	Percentage float64 `json:"percentage"`
}

// mib is the agent's unit.
const mib = 1 << 20

// DiskFree returns an upper bound, in bytes, on the free space of the file
// system holding the host's Docker data root, and whether the agent
// reported any: the most any reported device has free, plus the MiB the
// agent's rounding may have dropped. As the agent does not name the data
// root's device, the roomiest one stands in: a pull refused for needing
// more than this would not have fit on any of the host's disks.
func (h *Host) DiskFree() (int64, bool) {
	if h == nil || h.Info == nil || h.Info.DiskInfo == nil {
		return 0, false
	}
	best, ok := 0.0, false
	for _, u := range h.Info.DiskInfo.MountPoints {
		if u.Free < 0 || math.IsNaN(u.Free) || math.IsInf(u.Free, 0) || (u.Free == 0 && u.Total == 0) {
			continue // not a usable figure
		}
		best, ok = max(best, u.Free), true
	}
	if !ok || best > math.MaxInt64/mib-1 {
		return 0, false
	}
	return (int64(best) + 1) * mib, true
}
