package lab

import (
	"slices"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/lab/netem"
)

func TestParseBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"512MiB", 512 << 20, false},
		{"1GiB", 1 << 30, false},
		{"10MB", 10_000_000, false},
		{"64k", 64 << 10, false},
		{"1.5KB", 1500, false},
		{"1000", 1000, false},
		{"7 B", 7, false},
		{"", 0, true},
		{"ten", 0, true},
		{"5 parsecs", 0, true},
		{"-1MiB", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    netem.Link
		wantErr bool
	}{
		{"10MB/s,50ms", netem.Link{BytesPerSec: 10_000_000, Latency: 50 * time.Millisecond}, false},
		{"1GiB/s", netem.Link{BytesPerSec: 1 << 30}, false},
		{"80ms", netem.Link{Latency: 80 * time.Millisecond}, false},
		{"none", netem.Link{}, false},
		{"fast", netem.Link{}, true},
		{"10MB/s,-5ms", netem.Link{}, true},
	}
	for _, tt := range tests {
		got, err := ParseLink(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParseLink(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSetLink(t *testing.T) {
	t.Parallel()
	var c Config
	for _, s := range []string{"source:1MB/s", "regions:20ms", "region=eu-west:10MB/s,50ms", "hosts:5MB/s", "host=dev-01:1s"} {
		if err := c.SetLink(s); err != nil {
			t.Fatalf("SetLink(%q): %v", s, err)
		}
	}
	if c.SourceLink.BytesPerSec != 1e6 || c.RegionLink.Latency != 20*time.Millisecond ||
		c.RegionLinks["eu-west"] != (netem.Link{BytesPerSec: 1e7, Latency: 50 * time.Millisecond}) ||
		c.HostLink.BytesPerSec != 5e6 || c.HostLinks["dev-01"].Latency != time.Second {
		t.Errorf("config = %+v", c)
	}
	for _, bad := range []string{"eu-west", "region:1MB/s", "host=:1MB/s", "planet=x:1ms", "source:fast"} {
		if err := c.SetLink(bad); err == nil {
			t.Errorf("SetLink(%q) accepted", bad)
		}
	}
	c.RegionLinks["mars"] = netem.Link{}
	if _, err := c.withDefaults(); err == nil {
		t.Errorf("a link for an unknown region was accepted")
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Fault
		wantErr bool
	}{
		{"registry=eu-west:5xx@3", Fault{Target: "registry", Name: "eu-west", Action: "status", Status: 500, N: 3}, false},
		{"registry=source:429", Fault{Target: "registry", Name: "source", Action: "status", Status: 429, N: 1}, false},
		{"registry=us-east:reset@2", Fault{Target: "registry", Name: "us-east", Action: "reset", N: 2}, false},
		{"registry=us-east:down", Fault{Target: "registry", Name: "us-east", Action: "down", N: 1}, false},
		{"host=dev-01:hang", Fault{Target: "host", Name: "dev-01", Action: "hang", N: 1}, false},
		{"host=dev-01:fail-pull", Fault{Target: "host", Name: "dev-01", Action: "fail-pull", N: 1}, false},
		{"rancher:503@2", Fault{Target: "rancher", Action: "status", Status: 503, N: 2}, false},
		{"rancher:action=422", Fault{Target: "rancher", Action: "action", Status: 422, N: 1}, false},
		{"rancher:action=500", Fault{Target: "rancher", Action: "action", Status: 500, N: 1}, false},
		{"rancher:action=5xx", Fault{Target: "rancher", Action: "action", Status: 500, N: 1}, false},
		{"rancher:action=422@2", Fault{}, true},
		{"rancher:never-healthy=web*", Fault{Target: "rancher", Action: "never-healthy", Arg: "web*", N: 1}, false},
		{"rancher:never-healthy-image=*/app:1.2", Fault{Target: "rancher", Action: "never-healthy-image", Arg: "*/app:1.2", N: 1}, false},
		{"rancher:never-healthy-image=*@sha256:*", Fault{Target: "rancher", Action: "never-healthy-image", Arg: "*@sha256:*", N: 1}, false},
		{"rancher:never-healthy-image=", Fault{}, true},
		{"rancher:restart", Fault{Target: "rancher", Action: "restart", N: 1}, false},
		{"rancher:drop-ws", Fault{Target: "rancher", Action: "drop-ws", N: 1}, false},
		{"rancher:dockersocket=403", Fault{Target: "rancher", Action: "dockersocket", Status: 403, N: 1}, false},
		{"rancher:dockersocket=0", Fault{Target: "rancher", Action: "dockersocket", N: 1}, false},
		{"rancher:dockersocket=200", Fault{}, true},
		{"rancher:agent-down=dmz-01", Fault{Target: "rancher", Action: "agent-down", Arg: "dmz-01", N: 1}, false},
		{"rancher:agent-up=dmz-01", Fault{Target: "rancher", Action: "agent-up", Arg: "dmz-01", N: 1}, false},
		{"rancher:agent-down=", Fault{}, true},
		{"rancher:relay-drop=4096", Fault{Target: "rancher", Action: "relay-drop", Bytes: 4096, N: 1}, false},
		{"rancher:relay-drop=0", Fault{}, true},
		{"host=dev-01:restart", Fault{}, true},
		{"registry=eu-west", Fault{}, true},
		{"registry=eu-west:200", Fault{}, true},
		{"registry=eu-west:5xx@0", Fault{}, true},
		{"host=dev-01:500", Fault{}, true},
		{"host=dev-01:down@2", Fault{}, true},
		{"rancher:down", Fault{}, true},
		{"rancher:never-healthy=", Fault{}, true},
		{"registry=eu-west:fail-pull", Fault{}, true},
		{"moon:down", Fault{}, true},
	}
	for _, tt := range tests {
		got, err := ParseFault(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPlanEnvs(t *testing.T) {
	t.Parallel()
	type env struct {
		name, region string
		wave         int
	}
	tests := []struct {
		n, regions int
		want       []env
	}{
		{1, 1, []env{{"dev", "eu-west", 0}}},
		{4, 3, []env{{"dev", "eu-west", 0}, {"qa", "us-east", 1}, {"demo", "ap-south", 2}, {"dmz-eu-west", "eu-west", 3}}},
		{6, 2, []env{{"dev", "eu-west", 0}, {"qa", "us-east", 1}, {"demo", "eu-west", 2},
			{"dmz-us-east", "us-east", 3}, {"dmz-eu-west", "eu-west", 3}, {"dmz-us-east-2", "us-east", 3}}},
	}
	for _, tt := range tests {
		var got []env
		for _, p := range planEnvs(tt.n, regionNames(tt.regions)) {
			got = append(got, env(p))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("planEnvs(%d, %d regions) = %v, want %v", tt.n, tt.regions, got, tt.want)
		}
	}
	if got := regionNames(10); got[8] != "region-9" || got[9] != "region-10" {
		t.Errorf("regionNames(10) = %v", got)
	}
}
