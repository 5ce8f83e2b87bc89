package registry

import (
	"errors"
	"fmt"
)

// plan turns the checks into a Plan.
func (r *run) plan() (*PlanReport, error) {
	p := &PlanReport{}
	var errs []error
	for ri, reg := range r.regions {
		rp := RegionPlan{Region: reg}
		counted := map[string]bool{}
		for i, li := range r.lock.Images {
			st := r.states[i][ri]
			pi := PlanImage{Image: li.Name, Digest: li.Digest, Present: st.present}
			if st.err != nil {
				pi.Error = st.err.Error()
				errs = append(errs, fmt.Errorf("plan %s in %s: %w", li.Name, reg, st.err))
			}
			for _, t := range st.targets {
				b := r.jobs[t.digest()].blob
				_, mount := r.known[[2]string{reg, b.Digest}]
				pi.Missing = append(pi.Missing, PlanBlob{Digest: b.Digest, Size: b.Size, MediaType: b.MediaType, Mount: mount})
				if !mount && !counted[b.Digest] {
					counted[b.Digest] = true
					rp.MissingBlobs++
					rp.MissingBytes += b.Size
				}
			}
			rp.Images = append(rp.Images, pi)
		}
		p.Regions = append(p.Regions, rp)
	}
	return p, errors.Join(errs...)
}
