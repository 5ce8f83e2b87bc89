package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab/registries"
	"github.com/drover-dev/drover/prewarm"
)

// TestPlanListsOutsideFetches: plan names the hosts of a region left at
// foreignLayers: urls that will download an image's foreign layer from
// its URL, and not those of a region set to mirror.
func TestPlanListsOutsideFetches(t *testing.T) {
	t.Parallel()
	l, release := newForeignLab(t, 2)

	code, out, stderr := l.run(t, "plan", "-f", release)
	t.Log(out)
	if code != cli.ExitOK {
		t.Fatalf("plan: exit %d\n%s%s", code, out, stderr)
	}
	var row string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "demo ") {
			row = line
		}
		if strings.HasPrefix(line, "dmz-eu ") {
			t.Errorf("plan lists a host of the mirror region as fetching from outside: %q", line)
		}
	}
	wantFrom := l.src.Addr() // the lab serves foreign layers from each registry's /lab/foreign/
	if f := strings.Fields(row); len(f) != 8 || f[2] != "demo-01,demo-02" || f[3] != "win" || f[4] != "1" || f[7] != wantFrom {
		t.Errorf("outside row %q: want demo us demo-01,demo-02 win 1 SIZE %s\n%s", row, wantFrom, out)
	}

	code, out, _ = l.run(t, "plan", "-f", release, "--json")
	var doc struct {
		Regions []json.RawMessage      `json:"regions"`
		Outside []prewarm.OutsideFetch `json:"outsideFetches"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != cli.ExitOK {
		t.Fatalf("plan --json: exit %d, %v\n%s", code, err, out)
	}
	if len(doc.Regions) != 2 || len(doc.Outside) != 1 || doc.Outside[0].Env != "demo" || doc.Outside[0].Layers != 1 {
		t.Errorf("plan --json: %d regions, outside %+v; want 2 regions and demo's one layer", len(doc.Regions), doc.Outside)
	}

	// --nondistributable: the mirror copies foreign layers into every
	// region, so no host fetches from outside (plan listed demo's anyway).
	code, out, stderr = l.run(t, "plan", "-f", release, "--nondistributable")
	if code != cli.ExitOK || strings.Contains(out, "outside their region") {
		t.Errorf("plan --nondistributable: exit %d, want 0 and no outside fetches\n%s%s", code, out, stderr)
	}
}

// newForeignLab is a mirror lab whose source holds team/win:1.0 with a
// foreign layer, an inventory of region eu (foreignLayers: mirror, dmz-eu's
// one host) and region us (urls, demo's demoHosts hosts, never dialled),
// and a release of that image.
func newForeignLab(t *testing.T, demoHosts int) (l *mirrorLab, release string) {
	t.Helper()
	l = newMirrorLab(t)
	if _, err := registries.Seed(t.Context(), l.src.Addr(), registries.SeedSpec{Foreign: "team/win:1.0", Size: 64 << 10, Layers: 2}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	var demo []string
	for i := 1; i <= demoHosts; i++ {
		demo = append(demo, fmt.Sprintf("{name: demo-%02d, docker: \"tcp://127.0.0.1:%d\"}", i, i+1))
	}
	write(t, l.hosts, fmt.Sprintf("version: 1\nregistries:\n  source: {address: %s, insecure: true}\n  regions:\n"+
		"    eu: {address: %s, insecure: true, foreignLayers: mirror}\n    us: {address: %s, insecure: true}\n"+
		"environments:\n  - name: dmz-eu\n    region: eu\n    hosts: [{name: dmz-eu-01, docker: \"tcp://127.0.0.1:1\"}]\n"+
		"  - name: demo\n    region: us\n    hosts: [%s]\n",
		l.src.Addr(), l.regions[0].Addr(), l.regions[1].Addr(), strings.Join(demo, ", ")))
	release = filepath.Join(l.dir, "win.yaml")
	write(t, release, "version: 1\nimages:\n  - name: win\n    ref: "+l.src.Addr()+"/team/win:1.0\n")
	return l, release
}
