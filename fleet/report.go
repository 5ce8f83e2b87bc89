package fleet

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Sentinels for errors.Is on a *HostError.
var (
	// ErrUnreachable: the host's Engine API did not answer (or timed out).
	ErrUnreachable = errors.New("docker host unreachable")
	// ErrPullStream: the daemon reported an error inside the pull stream
	// (HTTP 200 followed by errorDetail).
	ErrPullStream = errors.New("pull failed in stream")
	// ErrDigestMismatch: after the pull, the image does not carry the digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrNotInRegion: the region's registry lacks the digest and no
	// fallback source was given.
	ErrNotInRegion = errors.New("digest not in region registry")
	// ErrInterrupted: the context was cancelled (Ctrl-C, SIGTERM) before
	// the host's work was done; the host did nothing wrong.
	ErrInterrupted = errors.New("interrupted")
)

// HostError is one host's failure with one image ("" when the host failed
// before any image).
type HostError struct {
	Host  string
	Env   string
	Image string
	Err   error
}

func (e *HostError) Error() string {
	if e.Image == "" {
		return fmt.Sprintf("host %s (%s): %v", e.Host, e.Env, e.Err)
	}
	return fmt.Sprintf("pull %s on %s (%s): %v", e.Image, e.Host, e.Env, e.Err)
}

func (e *HostError) Unwrap() error { return e.Err }

// Actions in an ImageReport.
const (
	ActionPresent = "present" // already there: one inspect, no pull
	ActionPulled  = "pulled"
	ActionFailed  = "failed"
)

// Report is what Pull (and Seed) did, per host and image.
type Report struct {
	Started time.Time    `json:"started"`
	Seconds float64      `json:"seconds"`
	Hosts   []HostReport `json:"hosts"`
}

// HostReport is one host's outcome.
type HostReport struct {
	Target
	Ready   bool    `json:"ready"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	// Platform is the host's, as its daemon reported it ("" when unknown).
	Platform string        `json:"platform,omitempty"`
	Images   []ImageReport `json:"images"`
	Error    string        `json:"error,omitempty"`
	// Interrupted: the run was cancelled before this host was done (or
	// started); Error says so. Such a host is not ready, but not failed.
	Interrupted bool `json:"interrupted,omitempty"`
}

// ImageReport is one image on one host.
type ImageReport struct {
	Name   string `json:"name"`
	Ref    string `json:"ref"`
	Digest string `json:"digest,omitempty"`
	Action string `json:"action"`
	// Platform is the index entry chosen for the host ("" for a
	// single-platform image).
	Platform string `json:"platform,omitempty"`
	// Source is the registry pulled from ("" when nothing was pulled).
	Source   string  `json:"source,omitempty"`
	Bytes    int64   `json:"bytes"`
	Attempts int     `json:"attempts"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

// Failed names the hosts that are not ready, sorted.
func (r *Report) Failed() []string {
	var out []string
	for _, h := range r.Hosts {
		if !h.Ready {
			out = append(out, h.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Bytes is the layer bytes downloaded by all hosts.
func (r *Report) Bytes() int64 {
	var n int64
	for _, h := range r.Hosts {
		n += h.Bytes
	}
	return n
}

// EnvCount is per-environment readiness.
type EnvCount struct {
	Env                    string
	Ready, Missing, Failed int
}

// ByEnv counts, per environment (sorted): hosts ready, hosts that failed,
// and hosts not ready without a failure of their own (missing: not
// attempted or interrupted, the run was cancelled first).
func (r *Report) ByEnv() []EnvCount {
	m := map[string]*EnvCount{}
	for _, h := range r.Hosts {
		c := m[h.Env]
		if c == nil {
			c = &EnvCount{Env: h.Env}
			m[h.Env] = c
		}
		switch {
		case h.Ready:
			c.Ready++
		case h.Interrupted:
			c.Missing++
		case h.Error != "":
			c.Failed++
		default:
			c.Missing++
		}
	}
	out := make([]EnvCount, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Env < out[j].Env })
	return out
}

// Progress is one event of a host's work.
type Progress struct {
	Host  string `json:"host"`
	Image string `json:"image"`
	// Phase is one of: checking, waiting (for a registry slot), pulling,
	// tagging, present, done, failed.
	Phase string `json:"phase"`
	// Current and Total are downloaded layer bytes for this image so far
	// (Total grows as the daemon learns layer sizes; 0 when unknown).
	Current int64 `json:"current"`
	Total   int64 `json:"total"`
	// Attempt is the pull attempt (1-based) while pulling.
	Attempt int    `json:"attempt,omitempty"`
	Err     string `json:"error,omitempty"`
}
