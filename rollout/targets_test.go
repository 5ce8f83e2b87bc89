package rollout_test

import (
	"reflect"
	"testing"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rollout"
)

// TestTargetsDefaults: an environment that sets no concurrency or strategy
// (an inventory built in code, not through inventory.Load) gets the
// inventory's built-in defaults, the one definition of each.
func TestTargetsDefaults(t *testing.T) {
	t.Parallel()
	inv := &inventory.Inventory{Version: 1, File: "hosts.yaml", Environments: []inventory.Environment{{Name: "dev", Region: "eu"}}}
	over, err := rollout.ParseOverride("web/app=reg.example.com/app:2")
	if err != nil {
		t.Fatal(err)
	}
	targets, err := rollout.Targets(inv, nil, nil, nil, []rollout.Override{over})
	if err != nil {
		t.Fatalf("Targets: %v", err)
	}
	scoped, err := rollout.Scope(inv, nil, []string{"web/app"})
	if err != nil {
		t.Fatalf("Scope: %v", err)
	}
	want := rollout.Strategy{BatchSize: inventory.DefaultBatchSize, IntervalMillis: inventory.DefaultIntervalMillis}
	for name, ts := range map[string][]rollout.EnvTarget{"Targets": targets, "Scope": scoped} {
		if len(ts) != 1 {
			t.Fatalf("%s: %d targets, want 1", name, len(ts))
		}
		if got := ts[0]; got.Concurrency != inventory.DefaultConcurrency || !reflect.DeepEqual(got.Strategy, want) {
			t.Errorf("%s: concurrency %d, strategy %+v; want %d, %+v", name, got.Concurrency, got.Strategy, inventory.DefaultConcurrency, want)
		}
	}
}
