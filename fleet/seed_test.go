package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

type staticImages map[string][]string

func (s staticImages) EnvironmentImages(_ context.Context, env string) ([]string, error) {
	refs, ok := s[env]
	if !ok {
		return nil, errors.New("no such environment")
	}
	return refs, nil
}

func TestSeedRealDocker(t *testing.T) {
	t.Parallel()
	addr := testRegistry(t, nil)
	host := realDocker(t, addr)
	repo, side := uniqueRepo(t, "svc"), uniqueRepo(t, "side")
	cleanupRepos(t, addr, repo, side)
	running := pushImage(t, addr, repo, "2.0", 1, 8<<10)
	previous := pushImage(t, addr, repo, "1.0", 1, 8<<10)
	sidekick := pushImage(t, addr, side, "1.0", 1, 8<<10)
	next := pushImage(t, addr, repo, "3.0", 1, 8<<10)
	src := staticImages{"test": {
		"docker:" + addr + "/" + repo + ":2.0",
		"docker:" + addr + "/" + side + ":1.0",
		"docker:" + addr + "/" + repo + ":1.0",
	}}

	rep, err := Seed(t.Context(), host, src, &inventory.Lock{Images: []inventory.LockImage{next}}, WithBackoff(noBackoff))
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	if !rep.Hosts[0].Ready || len(rep.Hosts[0].Images) != 4 {
		t.Fatalf("report %+v, want 4 images ready", rep.Hosts[0])
	}
	for _, im := range []inventory.LockImage{running, previous, sidekick, next} {
		res, err := inspectReal(t, LockWant(addr, im).Ref)
		if err != nil {
			t.Errorf("%s:%s not seeded: %v", im.Repository, im.Tag, err)
			continue
		}
		if !hasDigest(res.RepoDigests, im.Repository, im.Digest) {
			t.Errorf("%s:%s has RepoDigests %v, want %s", im.Repository, im.Tag, res.RepoDigests, im.Digest)
		}
	}

	if _, err := Seed(t.Context(), Target{Name: "x", Env: "nope", Docker: dockerSock}, src, nil); err == nil {
		t.Errorf("Seed with an environment Rancher does not know: no error")
	}
}

type fixtureRancher struct{ svcs []rancher.Service }

func (f fixtureRancher) Project(_ context.Context, idOrName string) (*rancher.Project, error) {
	p := &rancher.Project{}
	p.ID, p.Name = "1a5", idOrName
	return p, nil
}

func (f fixtureRancher) Services(_ context.Context, project string) ([]rancher.Service, error) {
	if project != "1a5" {
		return nil, errors.New("wrong project id " + project)
	}
	return f.svcs, nil
}

// TestRancherImages reads a recorded Rancher 1.6 services collection (a
// service after an upgrade): current and previous images.
func TestRancherImages(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/rancher-services.json")
	if err != nil {
		t.Fatal(err)
	}
	var svcs []rancher.Service
	if err := json.Unmarshal(b, &svcs); err != nil {
		t.Fatal(err)
	}
	got, err := RancherImages(fixtureRancher{svcs}, func(env string) string { return "Default" }).EnvironmentImages(t.Context(), "dmz-eu")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"nexus.example.com/frontend:v1.2.3_1", "nexus.example.com/frontend:v3.9.84.2_1"}
	if !slices.Equal(got, want) {
		t.Errorf("images %v, want %v", got, want)
	}
}
