package fleet

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/rancher"
)

// TestDeployedOneWalk: RancherDeployed and EnvironmentImages read the same
// walk of the services: current images (primary, sidekicks) and previous
// ones (the last in-service upgrade's), each deduplicated in service order,
// and all of them deduplicated in the order met.
func TestDeployedOneWalk(t *testing.T) {
	t.Parallel()
	lc := func(ref string) string { return `{"imageUuid":"docker:` + ref + `"}` }
	svcs := parseServices(t, `[
		{"id":"1s1","launchConfig":`+lc("app:2")+`,"secondaryLaunchConfigs":[`+lc("log:1")+`],
		 "upgrade":{"inServiceStrategy":{"previousLaunchConfig":`+lc("app:1")+`,"previousSecondaryLaunchConfigs":[`+lc("log:1")+`]}}},
		{"id":"1s2","launchConfig":`+lc("app:1")+`},
		{"id":"1s3","launchConfig":{"imageUuid":""},"secondaryLaunchConfigs":[`+lc("log:1")+`,`+lc("db:9")+`],
		 "upgrade":{"inServiceStrategy":{"previousLaunchConfig":`+lc("db:8")+`}}}
	]`)
	f := fixtureRancher{svcs}
	d, err := RancherDeployed(t.Context(), f, "Default")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"app:2", "log:1", "app:1", "db:9"}; !slices.Equal(d.Current, want) {
		t.Errorf("Current = %v, want %v", d.Current, want)
	}
	if want := []string{"app:1", "log:1", "db:8"}; !slices.Equal(d.Previous, want) {
		t.Errorf("Previous = %v, want %v", d.Previous, want)
	}
	all, err := RancherImages(f, func(string) string { return "Default" }).EnvironmentImages(t.Context(), "dev")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"app:2", "log:1", "app:1", "db:9", "db:8"}; !slices.Equal(all, want) {
		t.Errorf("EnvironmentImages = %v, want %v", all, want)
	}
}

func parseServices(t testing.TB, js string) []rancher.Service {
	t.Helper()
	var svcs []rancher.Service
	if err := json.Unmarshal([]byte(js), &svcs); err != nil {
		t.Fatal(err)
	}
	return svcs
}

// BenchmarkRancherDeployed: services each with its own images (a map
// dedups them in one walk; a list search made it quadratic).
func BenchmarkRancherDeployed(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 5000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id":"1s%d","launchConfig":{"imageUuid":"docker:app%d:2"},"upgrade":{"inServiceStrategy":{"previousLaunchConfig":{"imageUuid":"docker:app%d:1"}}}}`, i, i, i)
	}
	sb.WriteString("]")
	f := fixtureRancher{parseServices(b, sb.String())}
	for b.Loop() {
		if _, err := RancherDeployed(b.Context(), f, "Default"); err != nil {
			b.Fatal(err)
		}
	}
}
