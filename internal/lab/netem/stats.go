package netem

import (
	"maps"
	"time"
)

// Entry is one request as Faults saw it.
type Entry struct {
	Time     time.Time
	Method   string
	Path     string
	Class    Class
	Repo     string // repository for manifests, blobs, uploads and tags
	Ref      string // digest or tag for manifests and blobs
	Status   int    // 0 when the connection was cut before a status
	BytesOut int64  // response body bytes written
	BytesIn  int64  // request body bytes read
	// RemoteAddr and UserAgent identify the client; the lab's simulated
	// Docker hosts send "drover-lab-host/<name>".
	RemoteAddr string
	UserAgent  string
	// Fault is "", "fail", "reset", "down" or "hang".
	Fault    string
	Duration time.Duration
}

// Key groups counters by method and class.
type Key struct {
	Method string
	Class  Class
}

// Counter is requests and body bytes for one Key (or in total).
type Counter struct {
	Requests int
	BytesOut int64 // served (response bodies)
	BytesIn  int64 // received (request bodies)
}

func (c *Counter) add(e Entry) {
	c.Requests++
	c.BytesOut += e.BytesOut
	c.BytesIn += e.BytesIn
}

// Stats is a snapshot of the counters since the last ResetStats.
type Stats struct {
	Total  Counter
	By     map[Key]Counter
	Faults int // requests answered by an injected fault
}

// Get returns the counter for method and class ("" method sums all methods).
func (s Stats) Get(method string, c Class) Counter {
	if method != "" {
		return s.By[Key{method, c}]
	}
	var sum Counter
	for k, v := range s.By {
		if k.Class == c {
			sum.Requests += v.Requests
			sum.BytesOut += v.BytesOut
			sum.BytesIn += v.BytesIn
		}
	}
	return sum
}

func (f *Faults) record(e Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, e)
	f.stats.Total.add(e)
	k := Key{e.Method, e.Class}
	c := f.stats.By[k]
	c.add(e)
	f.stats.By[k] = c
	if e.Fault != "" {
		f.stats.Faults++
	}
	f.inflight--
	if f.inflight == 0 {
		close(f.idle)
	}
}

// Stats returns a snapshot of the counters.
func (f *Faults) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.By = maps.Clone(f.stats.By)
	return s
}

// Log returns a copy of the request log, oldest first. An entry is added
// when its handler returns (see Idle).
func (f *Faults) Log() []Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Entry(nil), f.log...)
}

// ResetStats zeroes the counters and empties the log.
func (f *Faults) ResetStats() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats = Stats{By: map[Key]Counter{}}
	f.log = nil
}
