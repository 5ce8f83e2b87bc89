package dockersim

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// handlePull serves POST /images/create?fromImage=&tag=[&platform=].
func (h *Host) handlePull(w http.ResponseWriter, r *http.Request, _, _ string) {
	q := r.URL.Query()
	if q.Get("fromSrc") != "" {
		writeError(w, errorf(http.StatusBadRequest, "import (fromSrc) is not supported by the simulated host"))
		return
	}
	ref, err := reference.ParseNormalizedNamed(q.Get("fromImage"))
	if err != nil {
		writeError(w, errorf(http.StatusBadRequest, "%v", err))
		return
	}
	if tag := q.Get("tag"); tag != "" {
		if d, derr := digest.Parse(tag); derr == nil {
			ref, err = reference.WithDigest(reference.TrimNamed(ref), d)
		} else {
			ref, err = reference.WithTag(ref, tag)
		}
		if err != nil {
			writeError(w, errorf(http.StatusBadRequest, "%v", err))
			return
		}
	}
	ref = refKey(ref)
	req := pullRequest{ref: ref, auth: decodeAuth(r.Header.Get("X-Registry-Auth"))}
	if p := q.Get("platform"); p != "" {
		pl, err := parsePlatform(p)
		if err != nil {
			writeError(w, errorf(http.StatusBadRequest, "%v", err))
			return
		}
		req.platform = &pl
	}
	rc := http.NewResponseController(w)
	out := &stream{
		w:     w,
		start: func() { w.Header().Set("Content-Type", "application/json"); w.WriteHeader(http.StatusOK) },
		flush: func() { _ = rc.Flush() },
	}
	err = h.pull(r.Context(), req, out)
	if err == nil {
		return
	}
	h.cfg.logger.Info("pull failed", "host", h.name, "ref", ref.String(), "error", err)
	if !out.hasStarted() {
		writeError(w, translatePullError(err, ref))
		return
	}
	if r.Context().Err() == nil {
		out.fail(err)
	}
}

// inspectResponse is dockerd 20.10's image inspect body.
type inspectResponse struct {
	ID              string          `json:"Id"`
	RepoTags        []string        `json:"RepoTags"`
	RepoDigests     []string        `json:"RepoDigests"`
	Parent          string          `json:"Parent"`
	Comment         string          `json:"Comment"`
	Created         string          `json:"Created"`
	Container       string          `json:"Container"`
	ContainerConfig json.RawMessage `json:"ContainerConfig"`
	DockerVersion   string          `json:"DockerVersion"`
	Author          string          `json:"Author"`
	Config          json.RawMessage `json:"Config"`
	Architecture    string          `json:"Architecture"`
	Variant         string          `json:"Variant,omitempty"`
	Os              string          `json:"Os"`
	OsVersion       string          `json:"OsVersion,omitempty"`
	Size            int64           `json:"Size"`
	VirtualSize     int64           `json:"VirtualSize"`
	GraphDriver     struct {
		Data map[string]string `json:"Data"`
		Name string            `json:"Name"`
	} `json:"GraphDriver"`
	RootFS struct {
		Type   string   `json:"Type"`
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
	Metadata struct {
		LastTagTime string `json:"LastTagTime"`
	} `json:"Metadata"`
}

func rawOrEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 || string(b) == "null" {
		return json.RawMessage("{}")
	}
	return b
}

// imageName cuts "/images/" and a suffix off a path.
func imageName(p, suffix string) string {
	return strings.TrimSuffix(strings.TrimPrefix(p, "/images/"), suffix)
}

func (h *Host) handleInspect(w http.ResponseWriter, _ *http.Request, p, _ string) {
	name := imageName(p, "/json")
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	img, _, err := s.resolveLocked(name)
	if err != nil {
		if ae, ok := errors.AsType[*apiError](err); ok && ae.status == http.StatusNotFound {
			err = errorf(http.StatusNotFound, "no such image: %s: %s", name, ae.msg)
		}
		writeError(w, err)
		return
	}
	var resp inspectResponse
	resp.ID = img.id
	tags, digests := s.tagsAndDigestsLocked(img.id)
	resp.RepoTags, resp.RepoDigests = nonNil(tags), nonNil(digests)
	c := img.cfg
	resp.Comment, resp.Container, resp.DockerVersion, resp.Author = c.Comment, c.Container, c.DockerVersion, c.Author
	resp.Created = img.created.Format(time.RFC3339Nano)
	resp.ContainerConfig, resp.Config = rawOrEmpty(c.ContainerConfig), rawOrEmpty(c.Config)
	resp.Architecture, resp.Variant, resp.Os, resp.OsVersion = c.Architecture, c.Variant, c.OS, c.OSVersion
	resp.Size = s.imageSizeLocked(img)
	resp.VirtualSize = resp.Size
	resp.GraphDriver.Name = "overlay2"
	resp.RootFS.Type = "layers"
	resp.RootFS.Layers = nonNil(slices.Clone(c.RootFS.DiffIDs))
	resp.Metadata.LastTagTime = img.lastTag.Format(time.RFC3339Nano)
	writeJSON(w, http.StatusOK, resp)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleTag serves POST /images/{name}/tag?repo=&tag=.
func (h *Host) handleTag(w http.ResponseWriter, r *http.Request, p, _ string) {
	name := imageName(p, "/tag")
	q := r.URL.Query()
	if err := h.tag(name, q.Get("repo"), q.Get("tag")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (h *Host) tag(name, repo, tag string) error {
	target, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	if _, ok := target.(reference.Canonical); ok {
		return errorf(http.StatusBadRequest, "refusing to create a tag with a digest reference")
	}
	if tag != "" {
		if target, err = reference.WithTag(reference.TrimNamed(target), tag); err != nil {
			return errorf(http.StatusBadRequest, "%v", err)
		}
	}
	target = reference.TagNameOnly(target)
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	img, _, err := s.resolveLocked(name)
	if err != nil {
		return err
	}
	s.addRefLocked(target, img.id)
	img.lastTag = time.Now().UTC()
	return nil
}

// listFilter is the subset of /images/json filters the host understands.
type listFilter struct {
	all       bool
	dangling  *bool
	reference []string
}

func parseListFilter(r *http.Request) (listFilter, error) {
	f := listFilter{all: boolParam(r, "all")}
	raw := r.URL.Query().Get("filters")
	if raw == "" {
		return f, nil
	}
	var m map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		var legacy map[string][]string
		if json.Unmarshal([]byte(raw), &legacy) != nil {
			return f, errorf(http.StatusBadRequest, "invalid filter: %v", err)
		}
		m = map[string]map[string]bool{}
		for k, vs := range legacy {
			m[k] = map[string]bool{}
			for _, v := range vs {
				m[k][v] = true
			}
		}
	}
	for k, vs := range m {
		switch k {
		case "reference":
			for v := range vs {
				f.reference = append(f.reference, v)
			}
		case "dangling":
			for v := range vs {
				switch strings.ToLower(v) {
				case "true", "1":
					t := true
					f.dangling = &t
				case "false", "0":
					fl := false
					f.dangling = &fl
				default:
					return f, errorf(http.StatusBadRequest, "invalid filter 'dangling=%s'", v)
				}
			}
		default:
			return f, errorf(http.StatusBadRequest, "invalid filter '%s'", k)
		}
	}
	return f, nil
}

// imageSummary is one entry of /images/json (API 1.41).
type imageSummary struct {
	Containers  int64             `json:"Containers"`
	Created     int64             `json:"Created"`
	ID          string            `json:"Id"`
	Labels      map[string]string `json:"Labels"`
	ParentID    string            `json:"ParentId"`
	RepoDigests []string          `json:"RepoDigests"`
	RepoTags    []string          `json:"RepoTags"`
	SharedSize  int64             `json:"SharedSize"`
	Size        int64             `json:"Size"`
	VirtualSize int64             `json:"VirtualSize"`
}

func (h *Host) handleImageList(w http.ResponseWriter, r *http.Request, _, version string) {
	f, err := parseListFilter(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// shared-size exists from API 1.42; dockerd 20.10 ignores it.
	extra := boolParam(r, "shared-size") && !versionLess(version, "1.42")
	h.store.mu.Lock()
	out := h.store.summariesLocked(f, extra)
	h.store.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// summariesLocked lists images like dockerd 20.10's Images; extra adds
// container counts and shared sizes (as /system/df does).
func (s *store) summariesLocked(f listFilter, extra bool) []imageSummary {
	layerUsers := map[string]int{}
	if extra {
		for _, img := range s.images {
			for _, c := range img.chain {
				layerUsers[c]++
			}
		}
	}
	out := []imageSummary{}
	for _, img := range s.images {
		var tags, digests []string
		for _, ref := range s.refsOfLocked(img.id) {
			if len(f.reference) > 0 && !matchesAny(f.reference, ref) {
				continue
			}
			if _, ok := ref.(reference.Canonical); ok {
				digests = append(digests, reference.FamiliarString(ref))
			} else {
				tags = append(tags, reference.FamiliarString(ref))
			}
		}
		if f.dangling != nil && *f.dangling && len(tags) > 0 {
			continue
		}
		if tags == nil && digests == nil {
			if f.dangling != nil && !*f.dangling || len(f.reference) > 0 {
				continue
			}
			tags, digests = []string{"<none>:<none>"}, []string{"<none>@<none>"}
		}
		sum := imageSummary{
			Containers: -1, SharedSize: -1, ID: img.id, Labels: configLabels(img.cfg.Config),
			RepoDigests: nonNil(digests), RepoTags: nonNil(tags),
			Size: s.imageSizeLocked(img), Created: img.created.Unix(),
		}
		sum.VirtualSize = sum.Size
		if extra {
			sum.Containers = s.containerCountLocked(img.id)
			sum.SharedSize = 0
			for _, c := range img.chain {
				if l := s.layers[c]; l != nil && layerUsers[c] > 1 {
					sum.SharedSize += l.size
				}
			}
		}
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b imageSummary) int {
		return cmp.Or(cmp.Compare(b.Created, a.Created), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// matchesAny is reference.FamiliarMatch over patterns, as dockerd filters.
func matchesAny(patterns []string, ref reference.Named) bool {
	for _, p := range patterns {
		if ok, _ := reference.FamiliarMatch(p, ref); ok {
			return true
		}
	}
	return false
}

func configLabels(raw json.RawMessage) map[string]string {
	var c struct {
		Labels map[string]string `json:"Labels"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &c) != nil {
		return nil
	}
	return c.Labels
}
