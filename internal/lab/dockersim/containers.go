package dockersim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
)

// Sentinel errors of the agent-facing methods (errors.Is); the Engine API
// answers the matching HTTP status (404, 409).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CreateContainer creates a (never running) container named name from ref,
// which must be present on the host (see EnsureImage). A container, running
// or stopped, keeps its image from being deleted without force. The name
// may be empty.
func (h *Host) CreateContainer(name, ref string) (string, error) {
	id, err := h.createContainer(name, ref)
	if err != nil {
		return "", fmt.Errorf("create container %s from %s on %s: %w", name, ref, h.name, err)
	}
	return id, nil
}

func (h *Host) createContainer(name, ref string) (string, error) {
	if name != "" && !validName.MatchString(name) {
		return "", errorf(http.StatusBadRequest, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	name = strings.TrimPrefix(name, "/")
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	img, _, err := s.resolveLocked(ref)
	if err != nil {
		return "", err
	}
	id := newID()
	if name == "" {
		name = "sim_" + id[:12]
	}
	for _, c := range s.containers {
		if c.name == name {
			return "", errorf(http.StatusConflict, "Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", "/"+name, c.id)
		}
	}
	s.containers[id] = &containerRec{id: id, name: name, image: ref, imageID: img.id, created: time.Now()}
	return id, nil
}

// lookupContainerLocked finds a container by ID, name or ID prefix.
func (s *store) lookupContainerLocked(idOrName string) (*containerRec, error) {
	if c := s.containers[idOrName]; c != nil {
		return c, nil
	}
	n := strings.TrimPrefix(idOrName, "/")
	var found *containerRec
	for _, c := range s.containers {
		if c.name == n {
			return c, nil
		}
		if idOrName != "" && strings.HasPrefix(c.id, idOrName) {
			found = c
		}
	}
	if found != nil {
		return found, nil
	}
	return nil, errorf(http.StatusNotFound, "No such container: %s", idOrName)
}

// StartContainer marks a container running.
func (h *Host) StartContainer(id string) error {
	return h.setRunning(id, true)
}

// StopContainer marks a container stopped (exited); it keeps using its
// image.
func (h *Host) StopContainer(id string) error {
	return h.setRunning(id, false)
}

func (h *Host) setRunning(id string, running bool) error {
	if err := h.setRunningAPI(id, running); err != nil {
		return fmt.Errorf("container %s on %s: %w", id, h.name, err)
	}
	return nil
}

// RemoveContainer removes a stopped container; a running one is a
// conflict (stop it first).
func (h *Host) RemoveContainer(id string) error {
	if err := h.removeContainer(id, false); err != nil {
		return fmt.Errorf("remove container %s on %s: %w", id, h.name, err)
	}
	return nil
}

func (h *Host) removeContainer(id string, force bool) error {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookupContainerLocked(id)
	if err != nil {
		return err
	}
	if c.running && !force {
		return errorf(http.StatusConflict, "You cannot remove a running container %s. Stop the container before attempting removal or force remove", c.id)
	}
	delete(s.containers, c.id)
	return nil
}

// containerSummary is one entry of /containers/json (the fields prune
// logic reads).
type containerSummary struct {
	ID         string            `json:"Id"`
	Names      []string          `json:"Names"`
	Image      string            `json:"Image"`
	ImageID    string            `json:"ImageID"`
	Command    string            `json:"Command"`
	Created    int64             `json:"Created"`
	Ports      []any             `json:"Ports"`
	Labels     map[string]string `json:"Labels"`
	State      string            `json:"State"`
	Status     string            `json:"Status"`
	HostConfig struct {
		NetworkMode string `json:"NetworkMode"`
	} `json:"HostConfig"`
	Mounts []any `json:"Mounts"`
}

func (s *store) containerSummariesLocked(all bool) []containerSummary {
	out := []containerSummary{}
	for _, c := range s.containers {
		if !all && !c.running {
			continue
		}
		sum := containerSummary{
			ID: c.id, Names: []string{"/" + c.name}, Image: c.image, ImageID: c.imageID,
			Created: c.created.Unix(), Ports: []any{}, Labels: map[string]string{}, Mounts: []any{},
		}
		sum.HostConfig.NetworkMode = "default"
		if img, _, err := s.resolveLocked(c.image); err != nil || img.id != c.imageID {
			sum.Image = c.imageID
		}
		switch {
		case c.running:
			sum.State, sum.Status = "running", "Up"
		case c.started:
			sum.State, sum.Status = "exited", "Exited (0)"
		default:
			sum.State, sum.Status = "created", "Created"
		}
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b containerSummary) int {
		if a.Created != b.Created {
			return int(b.Created - a.Created)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (h *Host) handleContainerList(w http.ResponseWriter, r *http.Request, _, _ string) {
	h.store.mu.Lock()
	out := h.store.containerSummariesLocked(boolParam(r, "all"))
	h.store.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (h *Host) handleContainerCreate(w http.ResponseWriter, r *http.Request, _, _ string) {
	var body struct {
		Image      string
		Cmd        json.RawMessage
		Entrypoint json.RawMessage
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, errorf(http.StatusBadRequest, "invalid JSON: %v", err))
		return
	}
	if body.Image == "" {
		writeError(w, errorf(http.StatusBadRequest, "No command specified"))
		return
	}
	if _, err := reference.ParseAnyReference(body.Image); err != nil {
		writeError(w, errorf(http.StatusBadRequest, "%v", err))
		return
	}
	id, err := h.createContainer(r.URL.Query().Get("name"), body.Image)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"Id": id, "Warnings": []string{}})
}

func containerID(p, suffix string) string {
	return strings.TrimSuffix(strings.TrimPrefix(p, "/containers/"), suffix)
}

func (h *Host) handleContainerStart(w http.ResponseWriter, _ *http.Request, p, _ string) {
	if err := h.setRunningAPI(containerID(p, "/start"), true); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Host) handleContainerStop(w http.ResponseWriter, _ *http.Request, p, _ string) {
	if err := h.setRunningAPI(containerID(p, "/stop"), false); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Host) setRunningAPI(id string, running bool) error {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookupContainerLocked(id)
	if err != nil {
		return err
	}
	if running {
		c.started = true
	}
	c.running = running
	return nil
}

func (h *Host) handleContainerDelete(w http.ResponseWriter, r *http.Request, p, _ string) {
	if err := h.removeContainer(containerID(p, ""), boolParam(r, "force")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
