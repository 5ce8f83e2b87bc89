package dockersim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestExtractTakesSizeOverRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rate      int64
		size      int64
		want      time.Duration
		wantLines int // Extracting lines
	}{
		{"instant", 0, 1 << 20, 0, 1},
		{"1 MiB at 256 KiB/s", 256 << 10, 1 << 20, 4 * time.Second, 20},
		{"small layer", 1 << 10, 10 << 10, 10 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				h := &Host{cfg: config{extractRate: tt.rate}}
				var buf bytes.Buffer
				out := &stream{w: &buf}
				j := &layerJob{desc: descriptor{Size: tt.size}, id: "abc"}
				start := time.Now()
				if err := h.extract(t.Context(), j, out); err != nil {
					t.Fatal(err)
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("extract took %v, want %v", got, tt.want)
				}
				var lines []message
				for l := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\r\n") {
					var m message
					if err := json.Unmarshal([]byte(l), &m); err != nil {
						t.Fatal(err)
					}
					lines = append(lines, m)
				}
				last := lines[len(lines)-1]
				if last.Status != "Pull complete" || len(lines)-1 != tt.wantLines {
					t.Errorf("got %d lines ending %q, want %d Extracting lines then Pull complete", len(lines), last.Status, tt.wantLines)
				}
				if p := lines[len(lines)-2].ProgressDetail; p.Current != tt.size || p.Total != tt.size {
					t.Errorf("last Extracting = %+v, want %d/%d", p, tt.size, tt.size)
				}
			})
		})
	}
}

func TestProgressBar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cur, total int64
		want       string
	}{
		{3867, 301616, "[>                                                  ]  3.867kB/301.6kB"},
		{32768, 301616, "[=====>                                             ]  32.77kB/301.6kB"},
		{301616, 301616, "[==================================================>]  301.6kB/301.6kB"},
	}
	for _, tt := range tests {
		if got := progressBar(tt.cur, tt.total); got != tt.want {
			t.Errorf("progressBar(%d, %d) = %q, want %q (dockerd's)", tt.cur, tt.total, got, tt.want)
		}
	}
}

func TestDecodeAuth(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, header, user, pass string
	}{
		{"empty", "", "", ""},
		{"username and password", enc(`{"username":"u","password":"p"}`), "u", "p"},
		{"auth field", enc(`{"auth":"` + base64.StdEncoding.EncodeToString([]byte("u2:p2")) + `"}`), "u2", "p2"},
		{"not base64", "%%%", "", ""},
		{"not json", enc("nope"), "", ""},
	}
	for _, tt := range tests {
		a := decodeAuth(tt.header)
		if a.Username != tt.user || a.Password != tt.pass {
			t.Errorf("%s: got %q/%q, want %q/%q", tt.name, a.Username, a.Password, tt.user, tt.pass)
		}
	}
}
