package inventory

import "time"

// Release is a release.yaml: the images of a release and, for rollout, the
// services they go to.
//
//	version: 1
//	images:
//	  - name: app                          # short name services refer to
//	    ref: build.example.com/team/app:1.4
//	services:
//	  - service: web/frontend              # stack/service in Rancher
//	    image: app
//	    environments: [dmz-eu, dmz-us]     # optional; default every environment
//	    sidekicks: {logger: app-logger}    # optional: sidekick name -> image name
type Release struct {
	Version  int              `yaml:"version" json:"version"`
	Images   []ReleaseImage   `yaml:"images" json:"images"`
	Services []ReleaseService `yaml:"services" json:"services"`

	File string `yaml:"-" json:"file,omitempty"`

	pos positions // key path -> line; nil when built in Go
}

// ReleaseImage is one image of a release, by its source reference.
type ReleaseImage struct {
	Name string `yaml:"name" json:"name"`
	Ref  string `yaml:"ref" json:"ref"`
}

// ReleaseService maps a Rancher service to an image of the release.
type ReleaseService struct {
	Service      string            `yaml:"service" json:"service"`
	Image        string            `yaml:"image" json:"image"`
	Environments []string          `yaml:"environments" json:"environments,omitempty"`
	Sidekicks    map[string]string `yaml:"sidekicks" json:"sidekicks,omitempty"`
}

// Lock is release.lock.json: every release image resolved to one digest at
// the source. prewarm mirror writes it; prewarm pull/status and rollout read
// it, so all three act on the same bits even if a tag moves.
type Lock struct {
	Version int         `json:"version"`
	Created time.Time   `json:"created"`
	Source  string      `json:"source"` // registries.source.address at resolve time
	Images  []LockImage `json:"images"`
}

// LockImage is one resolved image.
type LockImage struct {
	Name string `json:"name"`
	// Ref is the source reference as the release file gave it.
	Ref string `json:"ref"`
	// Repository is the path inside a registry, e.g. "team/app".
	Repository string `json:"repository"`
	// Tag is the tag resolved ("" when the release gave a digest).
	Tag string `json:"tag,omitempty"`
	// Digest is the manifest (or index) digest every region receives.
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Platforms lists os/arch[/variant][:os.version] kept when the image is an index.
	Platforms []string `json:"platforms,omitempty"`
	// Manifests are the index's entries (platform and digest), so a host
	// can be matched to the entry it runs before it pulls. Locks written
	// before Drover recorded them lack them; Platforms stands in then.
	Manifests []LockManifest `json:"manifests,omitempty"`
}

// LockManifest is one entry of a locked index: the platform it runs on and
// its manifest digest.
type LockManifest struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
	// OSVersion is the Windows build the entry needs, e.g. "10.0.17763.1234".
	OSVersion string `json:"os.version,omitempty"`
	// Digest is "" when read from an older lock's platforms.
	Digest string `json:"digest,omitempty"`
}

// CheckImageRef accepts an image reference with an explicit tag or digest,
// as a release's images need (never an implicit :latest). Command lines
// that name an image directly (rollout --service) check it the same way.
func CheckImageRef(ref string) error { return checkImageRef(ref) }
