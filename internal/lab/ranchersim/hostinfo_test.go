package ranchersim

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/drover-dev/drover/rancher"
)

// diskEngine is a fakeEngine with a disk.
type diskEngine struct {
	*fakeEngine
	capacity, used int64
}

func (d diskEngine) DiskUsage() (int64, int64) { return d.capacity, d.used }

// TestHostInfoDisk: a host whose engine reports its disk carries the
// agent's info.diskInfo, which rancher.Host decodes; others carry none.
func TestHostInfoDisk(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	tests := []struct {
		name           string
		capacity, used int64
		want           int64
		wantOK         bool
	}{
		{"room", 100 << 20, 30<<20 + 512<<10, 70 << 20, true}, // 69.5 MiB free: 69 reported, 70 the bound
		{"full", 8 << 20, 8 << 20, 1 << 20, true},
		{"unlimited", 0, 5 << 20, 0, false},
	}
	for _, tt := range tests {
		h := f.p.AddHost("disk-"+tt.name, "10.0.1.1", nil, diskEngine{newFakeEngine(tt.name, "app:1.0"), tt.capacity, tt.used})
		code, res := f.do(http.MethodGet, f.base+"/hosts/"+h.ID(), nil)
		if code != http.StatusOK {
			t.Fatalf("%s: GET host: %d %v", tt.name, code, res)
		}
		b, _ := json.Marshal(res)
		var rh rancher.Host
		if err := json.Unmarshal(b, &rh); err != nil {
			t.Fatalf("%s: decode host: %v", tt.name, err)
		}
		if got, ok := rh.DiskFree(); got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: DiskFree() = %d, %v; want %d, %v (info %v)", tt.name, got, ok, tt.want, tt.wantOK, res["info"])
		}
	}
	// An engine without a disk (the fixture's): info null.
	code, res := f.do(http.MethodGet, f.base+"/hosts", nil)
	if code != http.StatusOK {
		t.Fatalf("list hosts: %d %v", code, res)
	}
	for _, x := range res["data"].([]any) {
		if h := x.(map[string]any); h["hostname"] == "host0" && h["info"] != nil {
			t.Errorf("host0's engine reports no disk; info %v, want null", h["info"])
		}
	}
}
