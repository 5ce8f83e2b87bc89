package demo

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/drover-dev/drover/internal/lab/netem"
)

// traffic is what the registries saw since the last reset.
type traffic struct {
	sourceOut  int64               // blob bytes the source served (the mirror reading)
	uploaded   int64               // bytes the regions received (the mirror writing)
	hostBytes  int64               // blob bytes the regions served to hosts
	hostLayers map[string][]string // host -> layer digests it fetched (configs left out)
}

// resetTraffic waits for the registries to be idle and zeroes their counters.
func (s *story) resetTraffic(ctx context.Context) error {
	if err := s.l.Idle(ctx); err != nil {
		return err
	}
	for _, r := range s.l.Registries() {
		r.Faults().ResetStats()
	}
	return nil
}

// traffic reads the registries' logs since resetTraffic.
func (s *story) traffic(ctx context.Context) (traffic, error) {
	t := traffic{hostLayers: map[string][]string{}}
	layer := map[string]bool{}
	for _, sd := range s.l.Seeded {
		for _, l := range sd.Layers {
			layer[l] = true
		}
	}
	if err := s.l.Idle(ctx); err != nil {
		return t, err
	}
	for _, e := range s.l.Source.Log() {
		if e.Class == netem.ClassBlobs && e.Method == http.MethodGet {
			t.sourceOut += e.BytesOut
		}
	}
	for _, name := range s.l.RegionNames() {
		for _, e := range s.l.Region(name).Log() {
			host, isHost := strings.CutPrefix(e.UserAgent, "drover-lab-host/")
			switch {
			case e.Class == netem.ClassUploads:
				t.uploaded += e.BytesIn
			case isHost && e.Class == netem.ClassBlobs && e.Method == http.MethodGet && e.Status == http.StatusOK:
				t.hostBytes += e.BytesOut
				if layer[e.Ref] { // not the image config
					t.hostLayers[host] = append(t.hostLayers[host], e.Ref)
				}
			}
		}
	}
	return t, nil
}

// newLayers are the layers of app:tag that no other seeded tag has: what a
// host holding another version still lacks.
func (s *story) newLayers(tag string) (layers []string, size int64) {
	var mine []string
	others := map[string]bool{}
	for _, sd := range s.l.Seeded {
		if sd.Ref == "app:"+tag {
			mine = sd.Layers
			size = sd.Size
			continue
		}
		for _, l := range sd.Layers {
			others[l] = true
		}
	}
	for _, l := range mine {
		if !others[l] {
			layers = append(layers, l)
		}
	}
	return layers, size * int64(len(layers)) / int64(max(len(mine), 1))
}

// checkHostsFetched checks that every host fetched exactly want (each
// layer once), or nothing when want is empty.
func (s *story) checkHostsFetched(t traffic, want []string) error {
	for _, h := range s.l.Hosts() {
		got := slices.Clone(t.hostLayers[h.Name])
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			return fmt.Errorf("host %s fetched %d layers %v, want %d %v", h.Name, len(got), short(got), len(w), short(w))
		}
	}
	return nil
}

func short(digests []string) []string {
	out := make([]string, len(digests))
	for i, d := range digests {
		out[i] = strings.TrimPrefix(d, "sha256:")[:min(12, len(strings.TrimPrefix(d, "sha256:")))]
	}
	return out
}

// checkServices checks that every service of envs is active and runs
// <region>/app:tag.
func (s *story) checkServices(tag string, envs []string) error {
	for _, e := range s.l.Envs() {
		if !slices.Contains(envs, e.Name) {
			continue
		}
		want := s.l.Region(e.Region).Addr() + "/app:" + tag
		for i, svc := range s.l.Services(e.Name) {
			if st := svc.Status(); st.State != "active" || st.Image != want {
				return fmt.Errorf("%s %s is %s on %s, want active on %s", e.Name, s.l.ServiceNames()[i], st.State, st.Image, want)
			}
		}
	}
	return nil
}

// envNames lists the environments whose wave matches (all when match is nil).
func (s *story) envNames(match func(wave int) bool) []string {
	var out []string
	for _, e := range s.l.Envs() {
		if match == nil || match(e.Wave) {
			out = append(out, e.Name)
		}
	}
	return out
}
