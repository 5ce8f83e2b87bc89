package registry

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab/registries"
)

// TestMirrorRefusesAnAbsurdBlobSize: a manifest whose layer claims 2^62
// bytes is refused by name before any buffer is sized from it (the ranged
// read allocated a part per 8 MiB of the stated size up front: a crash).
func TestMirrorRefusesAnAbsurdBlobSize(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	l.seed(t, registries.SeedSpec{Images: []string{"app:1.0"}, Size: 64 << 10, Layers: 1})
	code, raw := getManifest(t, l.src.Addr(), "app", "1.0")
	if code != http.StatusOK {
		t.Fatalf("manifest: %d", code)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["layers"].([]any)[0].(map[string]any)["size"] = int64(1) << 62
	lie, _ := json.Marshal(doc)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, "http://"+l.src.Addr()+"/v2/app/manifests/huge", bytes.NewReader(lie))
	req.Header.Set("Content-Type", doc["mediaType"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Skipf("the lab registry refused the lying manifest (%s): nothing to mirror", resp.Status)
	}
	lock := l.lock(t, []string{"app:huge"})
	_, err = Mirror(t.Context(), lock, l.source(), l.inv(), l.opts()...)
	if err == nil || !strings.Contains(err.Error(), "claims 4611686018427387904 bytes") {
		t.Fatalf("mirror of a manifest claiming 2^62 bytes: %v, want it refused by name", err)
	}
}
