package rancher

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestLaunchConfig(t *testing.T) {
	t.Parallel()
	const in = `{"z":1,"imageUuid":"docker:app:1","a":{"b":[1,2.50,null]},"labels":{"k":"v"},"z":2,"n":null}`
	var lc LaunchConfig
	if err := json.Unmarshal([]byte(in), &lc); err != nil {
		t.Fatal(err)
	}
	if got := lc.Keys(); !slices.Equal(got, []string{"z", "imageUuid", "a", "labels", "n"}) {
		t.Errorf("keys = %v", got)
	}
	c := lc.Clone()
	if err := c.SetImage("registry/app:2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("added", []int{1}); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(c)
	if want := `{"z":2,"imageUuid":"docker:registry/app:2","a":{"b":[1,2.50,null]},"labels":{"k":"v"},"n":null,"added":[1]}`; string(out) != want {
		t.Errorf("marshal = %s\nwant      %s", out, want)
	}
	if lc.Image() != "app:1" || c.Image() != "registry/app:2" || c.Labels()["k"] != "v" {
		t.Errorf("clone changed the original or lost fields: %q %q", lc.Image(), c.Image())
	}
	var nilLC *LaunchConfig
	if nilLC.Image() != "" || nilLC.Keys() != nil || nilLC.Labels() != nil || nilLC.Clone() != nil {
		t.Error("nil launch config not empty")
	}
	if b, _ := json.Marshal(struct{ L *LaunchConfig }{}); string(b) != `{"L":null}` {
		t.Errorf("nil marshal = %s", b)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"a":}`, `{"a":1`} {
		var x LaunchConfig
		if err := json.Unmarshal([]byte(bad), &x); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}
