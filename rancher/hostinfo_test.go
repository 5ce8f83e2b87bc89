package rancher

import (
	"encoding/json"
	"testing"
)

func TestHostDiskFree(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   int64
		wantOK bool
	}{
		{"no info", `{"id":"1h1"}`, 0, false},
		{"null info", `{"id":"1h1","info":null}`, 0, false},
		{"info of another shape", `{"id":"1h1","info":"n/a"}`, 0, false},
		{"collector failed", `{"id":"1h1","info":{"diskInfo":{"mountPoints":"x"}}}`, 0, false},
		{"no disk info", `{"id":"1h1","info":{"cpuInfo":{"count":2}}}`, 0, false},
		{"empty mount points", `{"id":"1h1","info":{"diskInfo":{"fileSystems":{},"mountPoints":{}}}}`, 0, false},
		// As rancher/agent v1.6 sends it: MiB, keyed by device.
		{"agent v1.6", `{"id":"1h1","info":{"diskInfo":{"dockerStorageDriver":"overlay2","dockerStorageDriverStatus":{},
			"fileSystems":{"/dev/sda1":{"capacity":40960}},
			"mountPoints":{"/dev/sda1":{"free":100,"total":40960,"used":40860,"percentage":99.7}}}}}`, 101 << 20, true},
		{"roomiest device", `{"id":"1h1","info":{"diskInfo":{"mountPoints":{
			"/dev/sda1":{"free":10,"total":100,"used":90},"/dev/sdb":{"free":500,"total":1000,"used":500},"C:":{"free":7,"total":9}}}}}`, 501 << 20, true},
		{"full disk", `{"id":"1h1","info":{"diskInfo":{"mountPoints":{"/dev/sda1":{"free":0,"total":100,"used":100}}}}}`, 1 << 20, true},
		{"no figures", `{"id":"1h1","info":{"diskInfo":{"mountPoints":{"/dev/sda1":{}}}}}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h Host
			if err := json.Unmarshal([]byte(tt.in), &h); err != nil {
				t.Fatalf("decode host: %v", err)
			}
			if h.ID != "1h1" {
				t.Errorf("id %q, want 1h1 (the rest of the host must decode)", h.ID)
			}
			got, ok := h.DiskFree()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("DiskFree() = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
