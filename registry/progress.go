package registry

import "sync"

// progress keeps per-region byte counts and calls the callback, one call
// at a time, at most once per MiB of change per region.
type progress struct {
	mu      sync.Mutex
	f       func(Progress)
	regions map[string]*Progress
	last    map[string]int64
}

func (p *progress) init(f func(Progress)) {
	p.f = f
	p.regions = map[string]*Progress{}
	p.last = map[string]int64{}
}

func (p *progress) add(region string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.regions[region]
	if cur == nil {
		cur = &Progress{Region: region}
		p.regions[region] = cur
	}
	cur.Done += done
	cur.Total += total
	if p.f == nil {
		return
	}
	if d := cur.Done - p.last[region]; total != 0 || d >= 1<<20 || d < 0 || cur.Done == cur.Total {
		p.last[region] = cur.Done
		p.f(*cur)
	}
}
