package journalfmt

import (
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     int
		wantErr  string
	}{
		{name: "entries", in: `{"run":"r1","action":"run-start"}` + "\n" + `{"run":"r1","env":"dev","service":"web/a","action":"upgrade","from":"a:1","to":"a:2"}` + "\n", want: 2},
		{name: "torn last line", in: `{"run":"r1","action":"run-start"}` + "\n" + `{"run":"r1","act`, want: 1},
		{name: "bad line before more", in: "{}\nnot json\n{}\n", wantErr: "journal j.jsonl line 2"},
		{name: "line too long", in: `{"run":"` + strings.Repeat("x", MaxLine) + `"}` + "\n", wantErr: "j.jsonl line 1: longer than"},
	} {
		got, err := Read(strings.NewReader(tc.in), "j.jsonl")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: %d entries, %v; want %d", tc.name, len(got), err, tc.want)
		}
	}
}
