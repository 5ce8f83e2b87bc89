package ranchersim

import "math"

// DiskReporter is an Engine that knows its disk (the lab's dockersim hosts
// with a disk capacity). A host whose engine reports a capacity carries an
// info.diskInfo as rancher/agent v1.6 sends it (core/hostinfo/disk.go,
// disk_info.go): MiB rounded down, keyed by device; others have info null.
type DiskReporter interface {
	// DiskUsage returns the disk's capacity and the bytes in use; capacity 0
	// means unknown.
	DiskUsage() (capacity, used int64)
}

// hostInfo is a host's info field for engine e: nil, or the agent's diskInfo.
// Unlike the agent's, it is current on every read (the agent refreshes it on
// its pings).
func hostInfo(e Engine) any {
	d, ok := e.(DiskReporter)
	if !ok {
		return nil
	}
	capacity, used := d.DiskUsage()
	if capacity <= 0 {
		return nil
	}
	used = min(max(used, 0), capacity)
	mib := func(n int64) float64 { return float64(n >> 20) }
	const dev = "/dev/sda1" // the device holding /var/lib/docker
	return map[string]any{
		"diskInfo": map[string]any{
			"dockerStorageDriver":       "overlay2",
			"dockerStorageDriverStatus": map[string]any{},
			"fileSystems":               map[string]any{dev: map[string]any{"capacity": mib(capacity)}},
			"mountPoints": map[string]any{dev: map[string]any{
				"free": mib(capacity - used), "total": mib(capacity), "used": mib(used),
				"percentage": math.Round(float64(used)/float64(capacity)*10000) / 100,
			}},
		},
	}
}
