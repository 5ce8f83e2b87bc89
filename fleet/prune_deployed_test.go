package fleet

import (
	"slices"
	"testing"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/lab/labtest"
)

// TestPruneByDeployed: three versions on a simulated host, all built
// reproducibly (one Created time for every one, as the lab's images have). What Rancher runs (1.1) is
// current, what its last upgrade would roll back to (1.0) is kept unless
// asked, and 1.2, deployed nowhere, is the one removed with keep 0: not
// whichever image id hashes first.
func TestPruneByDeployed(t *testing.T) {
	t.Parallel()
	l := labtest.New(t, lab.Config{HostsPerEnv: 1, SeedRegions: true, Images: []string{"app:1.0", "app:1.1", "app:1.2"}, ImageSize: 16 << 10, Layers: 1})
	hosts, err := Targets(l.Inventory(), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	lock := labLock(l)
	if _, err := Pull(t.Context(), hosts[:1], lock, WithBackoff(noBackoff)); err != nil {
		t.Fatal(err)
	}
	ref := func(tag string) string { return hosts[0].Registry + "/app:" + tag }
	dep := &Deployed{Current: []string{ref("1.1")}, Previous: []string{ref("1.0")}}
	for _, tc := range []struct {
		name    string
		include bool
		want    []string
	}{
		{name: "rollback image kept", want: []string{ref("1.2")}},
		{name: "--include-rollback-image", include: true, want: []string{ref("1.0"), ref("1.2")}},
	} {
		rep, err := Prune(t.Context(), hosts[0], []string{"app"}, 0, nil, true, WithDeployed(dep), WithIncludeRollback(tc.include))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, p := range append(slices.Clone(rep.Removed), rep.Kept...) {
			if !p.Created.Equal(rep.Kept[0].Created) {
				t.Errorf("%s: image %v created %v, want one Created for all (reproducible builds)", tc.name, p.Refs, p.Created)
			}
		}
		for _, p := range rep.Removed {
			got = append(got, p.Refs[0])
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: removes %v, want %v (kept %+v)", tc.name, got, tc.want, rep.Kept)
		}
		for _, k := range rep.Kept {
			if k.Refs[0] == ref("1.0") && !tc.include && k.Reason != "rollback image (kept; --include-rollback-image removes it)" {
				t.Errorf("%s: 1.0 kept as %q, want the rollback reason naming the flag", tc.name, k.Reason)
			}
		}
	}
}
