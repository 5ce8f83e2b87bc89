package dockersim

import (
	"encoding/json"
	"fmt"
	"time"
)

// descriptor is an OCI/Docker content descriptor.
type descriptor struct {
	MediaType string   `json:"mediaType"`
	Digest    string   `json:"digest"`
	Size      int64    `json:"size"`
	URLs      []string `json:"urls,omitempty"`
	Platform  *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant,omitempty"`
		OSVersion    string `json:"os.version,omitempty"`
	} `json:"platform,omitempty"`
}

// manifestDoc covers image manifests and indexes (Docker and OCI).
type manifestDoc struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
	Manifests     []descriptor `json:"manifests"`
}

func parseManifest(m fetchedManifest) (manifestDoc, error) {
	var doc manifestDoc
	if err := json.Unmarshal(m.body, &doc); err != nil {
		return doc, fmt.Errorf("manifest %s: %w", m.digest, err)
	}
	if doc.MediaType == "" {
		doc.MediaType = m.mediaType
	}
	if doc.SchemaVersion == 1 {
		return doc, fmt.Errorf("manifest %s: schema 1 manifests are not supported", m.digest)
	}
	return doc, nil
}

func (d manifestDoc) isIndex() bool {
	return d.MediaType == mtDockerList || d.MediaType == mtOCIIndex || (len(d.Manifests) > 0 && len(d.Layers) == 0)
}

// pick chooses the index entry for p, like dockerd: os and architecture
// must match, and the variant too when p names one. For a Windows host of
// a known build (osVersion), the entry of that build wins, as Windows
// dockerd sorts them; otherwise the first match.
func (d manifestDoc) pick(p platform, osVersion string) (descriptor, bool) {
	var first *descriptor
	for i, m := range d.Manifests {
		if m.Platform == nil || m.Platform.OS != p.OS || m.Platform.Architecture != p.Architecture {
			continue
		}
		if p.Variant != "" && m.Platform.Variant != p.Variant {
			continue
		}
		if p.OS != "windows" || osVersion == "" || windowsBuild(m.Platform.OSVersion) == windowsBuild(osVersion) {
			return m, true
		}
		if first == nil {
			first = &d.Manifests[i]
		}
	}
	if first != nil {
		return *first, true
	}
	return descriptor{}, false
}

// isForeign reports a non-distributable layer.
func (d descriptor) isForeign() bool {
	switch d.MediaType {
	case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
		return true
	}
	return false
}

// imageConfig is the part of an image config the host reports.
type imageConfig struct {
	Architecture    string          `json:"architecture"`
	Variant         string          `json:"variant,omitempty"`
	OS              string          `json:"os"`
	OSVersion       string          `json:"os.version,omitempty"`
	Created         *time.Time      `json:"created,omitempty"`
	Author          string          `json:"author,omitempty"`
	Comment         string          `json:"comment,omitempty"`
	Container       string          `json:"container,omitempty"`
	DockerVersion   string          `json:"docker_version,omitempty"`
	Config          json.RawMessage `json:"config,omitempty"`
	ContainerConfig json.RawMessage `json:"container_config,omitempty"`
	RootFS          struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}
