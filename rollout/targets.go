package rollout

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/drover-dev/drover/inventory"
)

// EnvTarget is what one environment should run after the rollout.
type EnvTarget struct {
	Name        string          `json:"env"`
	Wave        int             `json:"wave"`
	Region      string          `json:"region"`
	Strategy    Strategy        `json:"strategy"`
	Concurrency int             `json:"concurrency"`
	Services    []ServiceTarget `json:"services"`
}

// ServiceTarget is one service's new image (and sidekick images).
type ServiceTarget struct {
	Service   string           `json:"service"` // stack/name
	Image     Image            `json:"image"`
	Sidekicks map[string]Image `json:"sidekicks,omitempty"`
}

// Override is a one-off "stack/service=image" from the command line.
type Override struct {
	Service string
	Ref     string
}

// ParseOverride parses "web/frontend=registry/app:1.4".
func ParseOverride(s string) (Override, error) {
	svc, ref, ok := strings.Cut(s, "=")
	stack, name, ok2 := strings.Cut(svc, "/")
	if !ok || !ok2 || stack == "" || name == "" || strings.Contains(name, "/") || ref == "" {
		return Override{}, fmt.Errorf("--service %q: want stack/service=image", s)
	}
	if err := inventory.CheckImageRef(ref); err != nil {
		return Override{}, fmt.Errorf("--service %q: %w", s, err)
	}
	return Override{Service: svc, Ref: ref}, nil
}

// Targets resolves what each environment should run: every service of the
// release (mapped through the lock to the deploy reference in the
// environment's region, "<region registry>/<repository>:<tag>"), then the
// overrides. envs narrows the environments (nil = all). rel and lock may be
// nil when overrides alone are given. The result is ordered by wave, then by
// the inventory's order. Every problem is reported at once.
func Targets(inv *inventory.Inventory, rel *inventory.Release, lock *inventory.Lock, envs []string, overrides []Override) ([]EnvTarget, error) {
	var errs []error
	for _, e := range envs {
		if !slices.ContainsFunc(inv.Environments, func(x inventory.Environment) bool { return x.Name == e }) {
			errs = append(errs, fmt.Errorf("--env %s: no such environment in %s", e, inv.File))
		}
	}
	locked := map[string]inventory.LockImage{}
	if lock != nil {
		for _, li := range lock.Images {
			locked[li.Name] = li
		}
	}
	if rel != nil && lock == nil {
		errs = append(errs, errors.New("a release needs its lock (release.lock.json, written by prewarm mirror)"))
	}
	var out []EnvTarget
	for _, env := range inv.Environments {
		if len(envs) > 0 && !slices.Contains(envs, env.Name) {
			continue
		}
		reg, ok := inv.Registries.Regions[env.Region]
		if !ok && rel != nil && len(rel.Services) > 0 {
			errs = append(errs, fmt.Errorf("environment %s: region %q has no registry in registries.regions", env.Name, env.Region))
			continue
		}
		t := EnvTarget{Name: env.Name, Wave: env.Wave, Region: env.Region, Strategy: strategyOf(env.Strategy), Concurrency: env.Concurrency}
		if t.Concurrency <= 0 {
			t.Concurrency = inventory.DefaultConcurrency
		}
		deploy := func(name string) (Image, error) {
			li, ok := locked[name]
			if !ok {
				return Image{}, fmt.Errorf("image %q is not in the lock", name)
			}
			return deployImage(reg.Address, li), nil
		}
		if rel != nil && lock != nil {
			for _, rs := range rel.Services {
				if len(rs.Environments) > 0 && !slices.Contains(rs.Environments, env.Name) {
					continue
				}
				st := ServiceTarget{Service: rs.Service}
				var err error
				if st.Image, err = deploy(rs.Image); err != nil {
					errs = append(errs, fmt.Errorf("service %s in %s: %w", rs.Service, env.Name, err))
					continue
				}
				for sk, img := range rs.Sidekicks {
					im, err := deploy(img)
					if err != nil {
						errs = append(errs, fmt.Errorf("service %s sidekick %s in %s: %w", rs.Service, sk, env.Name, err))
						continue
					}
					if st.Sidekicks == nil {
						st.Sidekicks = map[string]Image{}
					}
					st.Sidekicks[sk] = im
				}
				t.Services = append(t.Services, st)
			}
		}
		for _, o := range overrides {
			st := ServiceTarget{Service: o.Service, Image: Image{Ref: o.Ref}}
			if i := slices.IndexFunc(t.Services, func(s ServiceTarget) bool { return s.Service == o.Service }); i >= 0 {
				t.Services[i] = st
			} else {
				t.Services = append(t.Services, st)
			}
		}
		if len(t.Services) > 0 {
			out = append(out, t)
		}
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("nothing to roll out: no service targets any selected environment"))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Wave < out[j].Wave })
	return out, errors.Join(errs...)
}

// Scope lists environments (all when envs is empty) with the named services
// ("stack/name") and no images: what Status, Finish and Rollback work on.
// An environment with no services named means every relevant service.
func Scope(inv *inventory.Inventory, envs, services []string) ([]EnvTarget, error) {
	var errs []error
	for _, e := range envs {
		if inv.Env(e) == nil {
			errs = append(errs, fmt.Errorf("--env %s: no such environment in %s", e, inv.File))
		}
	}
	for _, s := range services {
		if stack, name, ok := strings.Cut(s, "/"); !ok || stack == "" || name == "" || strings.ContainsAny(name, "/=") {
			errs = append(errs, fmt.Errorf("--service %q: want stack/service", s))
		}
	}
	var out []EnvTarget
	for _, env := range inv.Environments {
		if len(envs) > 0 && !slices.Contains(envs, env.Name) {
			continue
		}
		t := EnvTarget{Name: env.Name, Wave: env.Wave, Region: env.Region, Strategy: strategyOf(env.Strategy), Concurrency: max(env.Concurrency, 0)}
		if t.Concurrency == 0 {
			t.Concurrency = inventory.DefaultConcurrency
		}
		for _, s := range services {
			t.Services = append(t.Services, ServiceTarget{Service: s})
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Wave < out[j].Wave })
	return out, errors.Join(errs...)
}

// ScopeRelease is Scope, and when rel is given and no services are named,
// each environment gets the release's services with their images (status
// shows the target; rollback never goes back to it).
func ScopeRelease(inv *inventory.Inventory, rel *inventory.Release, lock *inventory.Lock, envs, services []string) ([]EnvTarget, error) {
	ts, err := Scope(inv, envs, services)
	if err != nil || rel == nil || len(services) > 0 {
		return ts, err
	}
	rts, err := Targets(inv, rel, lock, envs, nil)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if j := slices.IndexFunc(rts, func(t EnvTarget) bool { return t.Name == ts[i].Name }); j >= 0 {
			ts[i].Services = rts[j].Services
		}
	}
	return ts, nil
}

// EnvNames lists the targets' environments, in order.
func EnvNames(ts []EnvTarget) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// deployImage is the reference a host in a region knows the image by.
func deployImage(registry string, li inventory.LockImage) Image {
	return Image{Ref: li.DeployRef(registry), Digest: li.Digest}
}

func strategyOf(s inventory.Strategy) Strategy {
	out := Strategy{BatchSize: s.BatchSize, IntervalMillis: s.IntervalMillis, StartFirstServices: s.StartFirstServices}
	if out.BatchSize <= 0 {
		out.BatchSize = inventory.DefaultBatchSize
	}
	if out.IntervalMillis <= 0 {
		out.IntervalMillis = inventory.DefaultIntervalMillis
	}
	if s.StartFirst != nil {
		out.StartFirst = *s.StartFirst
	}
	return out
}

// Rancher 1.6 scheduling labels on a launch config.
const (
	labelHostAffinity = "io.rancher.scheduler.affinity:host_label"
	labelHostAntiAff  = "io.rancher.scheduler.affinity:host_label_ne"
)

// CanRun reports whether a host's labels satisfy a service's hard host-label
// scheduling rules (host_label: all must match; host_label_ne: none may).
// Soft rules do not narrow the set.
func CanRun(serviceLabels, hostLabels map[string]string) bool {
	for _, kv := range splitLabels(serviceLabels[labelHostAffinity]) {
		if v, ok := hostLabels[kv[0]]; !ok || v != kv[1] {
			return false
		}
	}
	for _, kv := range splitLabels(serviceLabels[labelHostAntiAff]) {
		if v, ok := hostLabels[kv[0]]; ok && v == kv[1] {
			return false
		}
	}
	return true
}

func splitLabels(s string) [][2]string {
	var out [][2]string
	for _, p := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k != "" {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// batches is ceil(scale/batchSize).
func batches(scale, batchSize int) int {
	if batchSize <= 0 {
		batchSize = 1
	}
	if scale <= 0 {
		return 0
	}
	return (scale + batchSize - 1) / batchSize
}
