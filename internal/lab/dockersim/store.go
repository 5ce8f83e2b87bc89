package dockersim

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
)

// layerRec is one layer in the host's layer store, keyed by chain ID like
// dockerd's. Only metadata is kept: blobs are verified while they stream in
// and then discarded, so a fleet of simulated hosts costs no disk.
type layerRec struct {
	chainID string
	diffID  string
	blob    string // digest of the compressed blob it came from
	size    int64  // compressed size (dockerd counts extracted bytes)
}

// imageRec is one image, keyed by ID (the config digest, like dockerd).
type imageRec struct {
	id      string
	config  []byte
	cfg     imageConfig
	chain   []string // chain IDs, bottom layer first
	created time.Time
	lastTag time.Time
}

type containerRec struct {
	id, name string
	image    string // the reference the container was created from
	imageID  string
	running  bool
	started  bool
	created  time.Time
}

// store holds everything a host knows. Every method takes mu.
type store struct {
	mu         sync.Mutex
	layers     map[string]*layerRec       // by chain ID
	images     map[string]*imageRec       // by ID
	refs       map[string]refEntry        // by normalised reference string
	manifests  map[string]fetchedManifest // by manifest digest: what a HEAD can reuse
	containers map[string]*containerRec   // by ID
	used       int64                      // layer bytes plus in-flight reservations
	capacity   int64                      // 0: unlimited
}

type refEntry struct {
	named reference.Named // reference.NamedTagged or reference.Canonical
	id    string
}

func newStore(capacity int64) *store {
	return &store{
		layers:     map[string]*layerRec{},
		images:     map[string]*imageRec{},
		refs:       map[string]refEntry{},
		manifests:  map[string]fetchedManifest{},
		containers: map[string]*containerRec{},
		capacity:   capacity,
	}
}

// chainIDs computes layer chain IDs from diff IDs as the image spec defines.
func chainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// errNoSpace is what a full disk reports.
type errNoSpace struct{ path string }

func (e errNoSpace) Error() string { return "write " + e.path + ": no space left on device" }

// reserve claims n bytes of disk for an in-flight download.
func (s *store) reserve(n int64, blob string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.capacity > 0 && s.used+n > s.capacity {
		return errNoSpace{path: "/var/lib/docker/tmp/GetImageBlob" + shortHex(blob)}
	}
	s.used += n
	return nil
}

func (s *store) release(n int64) {
	s.mu.Lock()
	s.used -= n
	s.mu.Unlock()
}

func shortHex(d string) string {
	h := d
	if _, after, ok := strings.Cut(d, ":"); ok {
		h = after
	}
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// refKey normalises a reference for the reference store: a name alone means
// :latest, and a reference with both tag and digest is looked up by digest.
func refKey(n reference.Named) reference.Named {
	if c, ok := n.(reference.Canonical); ok {
		if _, tagged := n.(reference.Tagged); tagged {
			if r, err := reference.WithDigest(reference.TrimNamed(n), c.Digest()); err == nil {
				return r
			}
		}
		return c
	}
	return reference.TagNameOnly(n)
}

// refsOfLocked returns the references to id, sorted like dockerd's.
func (s *store) refsOfLocked(id string) []reference.Named {
	var out []reference.Named
	for _, e := range s.refs {
		if e.id == id {
			out = append(out, e.named)
		}
	}
	slices.SortFunc(out, func(a, b reference.Named) int { return cmp.Compare(a.String(), b.String()) })
	return out
}

func (s *store) tagsAndDigestsLocked(id string) (tags, digests []string) {
	for _, r := range s.refsOfLocked(id) {
		if _, ok := r.(reference.Canonical); ok {
			digests = append(digests, reference.FamiliarString(r))
		} else {
			tags = append(tags, reference.FamiliarString(r))
		}
	}
	return tags, digests
}

// addRefLocked points ref at id and reports whether that changed anything.
func (s *store) addRefLocked(ref reference.Named, id string) bool {
	k := refKey(ref)
	old, ok := s.refs[k.String()]
	s.refs[k.String()] = refEntry{named: k, id: id}
	if _, tagged := k.(reference.Tagged); tagged {
		if img := s.images[id]; img != nil {
			img.lastTag = time.Now().UTC()
		}
	}
	return !ok || old.id != id
}

func (s *store) imageSizeLocked(img *imageRec) int64 {
	var n int64
	for _, c := range img.chain {
		if l := s.layers[c]; l != nil {
			n += l.size
		}
	}
	return n
}

var hexPrefix = regexp.MustCompile(`^[a-f0-9]{1,64}$`)
var fullID = regexp.MustCompile(`^(sha256:)?[a-f0-9]{64}$`)

// apiError is an error with the HTTP status dockerd would answer.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// Unwrap maps the status to ErrNotFound or ErrConflict.
func (e *apiError) Unwrap() error {
	switch e.status {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	}
	return nil
}

func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// noSuchImage mimics dockerd's ErrImageDoesNotExist message.
func noSuchImage(name string) error {
	msg := name
	if n, err := reference.ParseNormalizedNamed(name); err == nil && !fullID.MatchString(name) {
		msg = reference.FamiliarString(reference.TagNameOnly(n))
	}
	return errorf(http.StatusNotFound, "No such image: %s", msg)
}

// resolveLocked finds an image like dockerd's GetImage: a full ID, then a
// reference, then an ID prefix. named is nil when name was an ID.
func (s *store) resolveLocked(name string) (img *imageRec, named reference.Named, err error) {
	if fullID.MatchString(name) {
		id := name
		if !strings.HasPrefix(id, "sha256:") {
			id = "sha256:" + id
		}
		if img := s.images[id]; img != nil {
			return img, nil, nil
		}
		return nil, nil, noSuchImage(name)
	}
	n, perr := reference.ParseNormalizedNamed(name)
	if perr != nil && !hexPrefix.MatchString(name) {
		return nil, nil, errorf(http.StatusBadRequest, "%v", perr)
	}
	if perr == nil {
		if e, ok := s.refs[refKey(n).String()]; ok {
			if img := s.images[e.id]; img != nil {
				return img, n, nil
			}
		}
	}
	if hexPrefix.MatchString(name) {
		var found *imageRec
		for id, img := range s.images {
			if strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), name) {
				if found != nil {
					return nil, nil, errorf(http.StatusBadRequest, "ambiguous image ID prefix %s", name)
				}
				found = img
			}
		}
		if found != nil {
			return found, nil, nil
		}
	}
	return nil, nil, noSuchImage(name)
}

// has reports whether ref resolves to a local image.
func (s *store) has(ref string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, err := s.resolveLocked(ref)
	return err == nil
}

func (s *store) containerUsingLocked(id string, running bool) *containerRec {
	var found *containerRec
	for _, c := range s.containers {
		if c.imageID == id && c.running == running {
			if found == nil || c.created.Before(found.created) {
				found = c
			}
		}
	}
	return found
}

func (s *store) containerCountLocked(id string) int64 {
	var n int64
	for _, c := range s.containers {
		if c.imageID == id {
			n++
		}
	}
	return n
}

// deleteImageLocked removes img, its references and its layers no other
// image uses; it returns the removed chain IDs, top layer first.
func (s *store) deleteImageLocked(img *imageRec) []string {
	delete(s.images, img.id)
	for k, e := range s.refs {
		if e.id == img.id {
			delete(s.refs, k)
		}
	}
	var removed []string
	for i := len(img.chain) - 1; i >= 0; i-- {
		c := img.chain[i]
		if s.layerUsedLocked(c) {
			break
		}
		if l := s.layers[c]; l != nil {
			s.used -= l.size
			delete(s.layers, c)
			removed = append(removed, c)
		}
	}
	return removed
}

func (s *store) layerUsedLocked(chainID string) bool {
	for _, img := range s.images {
		if slices.Contains(img.chain, chainID) {
			return true
		}
	}
	return false
}
