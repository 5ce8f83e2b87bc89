package dockertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/api/types/jsonstream"
)

// wantStream describes a successful pull's progress stream.
type wantStream struct {
	repo      string           // familiar repository name, for "Pulling from"
	pullingID string           // id of the "Pulling from" line: the tag, or the reference by digest
	existing  []string         // layer ids reported "Already exists"
	fresh     map[string]int64 // downloaded layer ids and their sizes, in layer order below
	order     []string         // fresh ids in layer order
	digest    string
	status    string // "Downloaded newer image for R" or "Image is up to date for R"
}

// layerStatusRank orders the per-layer statuses of the classic store.
var layerStatusRank = map[string]int{
	"Pulling fs layer":   0,
	"Waiting":            1,
	"Downloading":        2,
	"Verifying Checksum": 3,
	"Download complete":  4,
	"Extracting":         5,
	"Pull complete":      6,
}

func freshLayers(t *testing.T, img v1.Image, skip int) (map[string]int64, []string) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{}
	var order []string
	for _, l := range m.Layers[skip:] {
		id := l.Digest.Hex[:12]
		sizes[id] = l.Size
		order = append(order, id)
	}
	return sizes, order
}

// checkStream asserts the shape of a pull's progress stream; dockerd may
// coalesce progress lines, so only the milestones are required.
func checkStream(t *testing.T, msgs []jsonstream.Message, w wantStream) {
	t.Helper()
	dump := func() string {
		var b strings.Builder
		for _, m := range msgs {
			fmt.Fprintf(&b, "\n  %s %q", m.ID, m.Status)
		}
		return b.String()
	}
	if len(msgs) < 3 {
		t.Fatalf("stream has %d messages, want at least 3:%s", len(msgs), dump())
	}
	if m := msgs[0]; m.Status != "Pulling from "+w.repo || m.ID != w.pullingID {
		t.Errorf("first message = %q id %q, want %q id %q", m.Status, m.ID, "Pulling from "+w.repo, w.pullingID)
	}
	n := len(msgs)
	if m := msgs[n-2]; m.Status != "Digest: "+w.digest || m.ID != "" {
		t.Errorf("second to last message = %q id %q, want %q", m.Status, m.ID, "Digest: "+w.digest)
	}
	if m := msgs[n-1]; m.Status != "Status: "+w.status || m.ID != "" {
		t.Errorf("last message = %q, want %q", m.Status, "Status: "+w.status)
	}
	rank := map[string]int{}
	seen := map[string][]string{}
	var completed []string
	for _, m := range msgs[1 : n-2] {
		if m.Error != nil {
			t.Errorf("unexpected error in stream: %q", m.Error.Message)
			continue
		}
		if slices.Contains(w.existing, m.ID) {
			if m.Status != "Already exists" {
				t.Errorf("layer %s: status %q, want only \"Already exists\"", m.ID, m.Status)
			}
			seen[m.ID] = append(seen[m.ID], m.Status)
			continue
		}
		size, ok := w.fresh[m.ID]
		if !ok {
			t.Errorf("message %q for unexpected id %q", m.Status, m.ID)
			continue
		}
		r, known := layerStatusRank[m.Status]
		if !known {
			t.Errorf("layer %s: unexpected status %q", m.ID, m.Status)
			continue
		}
		if prev, ok := rank[m.ID]; ok && r < prev {
			t.Errorf("layer %s: %q after a later stage%s", m.ID, m.Status, dump())
		}
		rank[m.ID] = r
		seen[m.ID] = append(seen[m.ID], m.Status)
		if (m.Status == "Downloading" || m.Status == "Extracting") && (m.Progress == nil || m.Progress.Total != size || m.Progress.Current > size || m.Progress.Current <= 0) {
			t.Errorf("layer %s: %q progress %+v, want 0 < current <= total = %d", m.ID, m.Status, m.Progress, size)
		}
		if m.Status == "Pull complete" {
			completed = append(completed, m.ID)
		}
	}
	for _, id := range w.existing {
		if !slices.Equal(seen[id], []string{"Already exists"}) {
			t.Errorf("layer %s: statuses %q, want [Already exists]", id, seen[id])
		}
	}
	for _, id := range w.order {
		st := seen[id]
		if len(st) == 0 || st[0] != "Pulling fs layer" || !slices.Contains(st, "Download complete") || st[len(st)-1] != "Pull complete" {
			t.Errorf("layer %s: statuses %q, want Pulling fs layer ... Download complete ... Pull complete", id, st)
		}
	}
	if !slices.Equal(completed, w.order) {
		t.Errorf("layers completed in order %q, want %q (extraction is sequential)", completed, w.order)
	}
}
