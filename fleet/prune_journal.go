package fleet

import (
	"fmt"
	"os"
	"slices"

	"github.com/drover-dev/drover/internal/journalfmt"
)

// JournalDeployed reads rollout's journal (rollout apply --journal) at
// path and returns per environment what its runs deployed, for Prune
// beside RancherDeployed: for each service, as its last entry leaves it,
// the image a rollback restarts (the entry's from: the previous image, or
// the one it was rolled back to) in Previous, and the image it runs in
// Current (to once an upgrade started, from once rolled back). Entries
// that changed nothing (skip, not-ours) are passed over. A missing or
// corrupt journal is an error naming the file (and line).
func JournalDeployed(path string) (map[string]*Deployed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	entries, err := journalfmt.Read(f, path)
	if err != nil {
		return nil, err
	}
	type key struct{ env, svc string }
	last := map[key]journalfmt.Entry{}
	var order []key
	for _, e := range entries {
		if e.Service == "" || e.From == "" && e.To == "" || e.Action == "skip" || e.Action == "not-ours" {
			continue
		}
		k := key{e.Env, e.Service}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = e
	}
	out := map[string]*Deployed{}
	for _, k := range order {
		e := last[k]
		d := out[k.env]
		if d == nil {
			d = &Deployed{}
			out[k.env] = d
		}
		switch e.Action {
		case "upgrade", "upgraded", "verified", "pending-finish", "finish", "finished":
			d.Current = appendNew(d.Current, e.To)
		case "rolled-back":
			d.Current = appendNew(d.Current, e.From)
		}
		d.Previous = appendNew(d.Previous, e.From)
	}
	return out, nil
}

// MergeDeployed adds what from says each environment deployed after what
// into says (into's images rank first), returning into (made if nil).
func MergeDeployed(into, from map[string]*Deployed) map[string]*Deployed {
	if into == nil {
		into = map[string]*Deployed{}
	}
	for env, d := range from {
		to := into[env]
		if to == nil {
			to = &Deployed{}
			into[env] = to
		}
		for _, r := range d.Current {
			to.Current = appendNew(to.Current, r)
		}
		for _, r := range d.Previous {
			to.Previous = appendNew(to.Previous, r)
		}
	}
	return into
}

func appendNew(list []string, ref string) []string {
	if ref == "" || slices.Contains(list, ref) {
		return list
	}
	return append(list, ref)
}
