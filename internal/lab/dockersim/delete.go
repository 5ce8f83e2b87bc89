package dockersim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/distribution/reference"
)

// deleteItem is one entry of the DELETE /images answer.
type deleteItem struct {
	Untagged string `json:"Untagged,omitempty"`
	Deleted  string `json:"Deleted,omitempty"`
}

func (h *Host) handleImageDelete(w http.ResponseWriter, r *http.Request, p, _ string) {
	items, err := h.removeImage(imageName(p, ""), boolParam(r, "force"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, items)
}

// conflict masks, as in dockerd's image_delete.go.
const (
	conflictDependentChild = 1 << iota
	conflictRunningContainer
	conflictActiveReference
	conflictStoppedContainer
	conflictHard = conflictDependentChild | conflictRunningContainer
	conflictSoft = conflictActiveReference | conflictStoppedContainer
)

type deleteConflict struct {
	id      string
	hard    bool
	used    bool
	message string
}

func (c *deleteConflict) err() error {
	force := "must be forced"
	if c.hard {
		force = "cannot be forced"
	}
	return errorf(http.StatusConflict, "conflict: unable to delete %s (%s) - %s", shortHex(c.id), force, c.message)
}

// removeImage follows dockerd 20.10's ImageDelete: a reference is untagged
// (its digest references go with the last tag of the repository); the image
// goes when no reference is left and no container uses it.
func (h *Host) removeImage(name string, force bool) ([]deleteItem, error) {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	img, named, err := s.resolveLocked(name)
	if err != nil {
		return nil, err
	}
	var items []deleteItem
	refs := s.refsOfLocked(img.id)
	removedRef := false
	isID := named == nil || strings.HasPrefix(strings.TrimPrefix(img.id, "sha256:"), name)
	if !isID {
		if !force && singleReference(refs) {
			if c := s.firstContainerLocked(img.id); c != nil {
				return nil, errorf(http.StatusConflict, "conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
					name, shortHex(c.id), shortHex(img.id))
			}
		}
		key := refKey(named)
		delete(s.refs, key.String())
		items = append(items, deleteItem{Untagged: reference.FamiliarString(key)})
		refs = s.refsOfLocked(img.id)
		if _, canonical := key.(reference.Canonical); !canonical {
			tagLeft := false
			for _, r := range refs {
				if _, c := r.(reference.Canonical); !c && r.Name() == key.Name() {
					tagLeft = true
				}
			}
			if !tagLeft {
				var remaining []reference.Named
				for _, r := range refs {
					if _, c := r.(reference.Canonical); c && r.Name() == key.Name() {
						delete(s.refs, r.String())
						items = append(items, deleteItem{Untagged: reference.FamiliarString(r)})
					} else {
						remaining = append(remaining, r)
					}
				}
				refs = remaining
			}
		}
		if len(refs) > 0 {
			return items, nil
		}
		removedRef = true
	} else if singleReference(refs) {
		mask := conflictHard
		if !force {
			mask |= conflictSoft &^ conflictActiveReference
		}
		if c := s.checkConflictLocked(img.id, mask); c != nil {
			return nil, c.err()
		}
		for _, r := range refs {
			delete(s.refs, r.String())
			items = append(items, deleteItem{Untagged: reference.FamiliarString(r)})
		}
	}

	mask := conflictHard
	if !force {
		mask |= conflictSoft
	}
	if c := s.checkConflictLocked(img.id, mask); c != nil {
		dangling := len(s.refsOfLocked(img.id)) == 0
		if removedRef && (!dangling || c.used) {
			return items, nil // the untag was the whole job
		}
		return nil, c.err()
	}
	for _, r := range s.refsOfLocked(img.id) {
		items = append(items, deleteItem{Untagged: reference.FamiliarString(r)})
	}
	removed := s.deleteImageLocked(img)
	items = append(items, deleteItem{Deleted: img.id})
	for _, c := range removed {
		items = append(items, deleteItem{Deleted: c})
	}
	return items, nil
}

// singleReference reports whether refs name one repository with at most
// one tag.
func singleReference(refs []reference.Named) bool {
	if len(refs) == 0 {
		return true
	}
	name, tags := refs[0].Name(), 0
	for _, r := range refs {
		if r.Name() != name {
			return false
		}
		if _, c := r.(reference.Canonical); !c {
			tags++
		}
	}
	return tags <= 1
}

func (s *store) checkConflictLocked(id string, mask int) *deleteConflict {
	if mask&conflictRunningContainer != 0 {
		if c := s.containerUsingLocked(id, true); c != nil {
			return &deleteConflict{id: id, hard: true, used: true, message: fmt.Sprintf("image is being used by running container %s", shortHex(c.id))}
		}
	}
	if mask&conflictActiveReference != 0 && len(s.refsOfLocked(id)) > 0 {
		return &deleteConflict{id: id, message: "image is referenced in multiple repositories"}
	}
	if mask&conflictStoppedContainer != 0 {
		if c := s.containerUsingLocked(id, false); c != nil {
			return &deleteConflict{id: id, used: true, message: fmt.Sprintf("image is being used by stopped container %s", shortHex(c.id))}
		}
	}
	return nil
}

func (s *store) firstContainerLocked(id string) *containerRec {
	if c := s.containerUsingLocked(id, true); c != nil {
		return c
	}
	return s.containerUsingLocked(id, false)
}
