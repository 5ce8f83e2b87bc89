package inventory

import (
	"slices"
	"strings"
)

// ForeignLayers says where the hosts of a region get an image's foreign
// (non-distributable) layers: Windows base layers whose manifest entry
// carries the vendor's download URLs (mediaType
// application/vnd.docker.image.rootfs.foreign.diff.tar.gzip).
//
// The manifest is copied unchanged either way, urls included, so digests
// stay those the source registry gave: Docker's registry (distribution)
// refuses a foreign layer without urls, and dropping them would change the
// digest a rollout pins. What differs is whether the region also holds the
// layer's bytes. A classic dockerd asks the registry first and follows the
// urls only when the registry lacks the blob; containerd's fetcher (the
// containerd image store) tries the urls first and falls back to the
// registry. See docs/foreign-layers.md for the sources.
type ForeignLayers string

const (
	// ForeignURLs leaves foreign layers out of the region: its hosts
	// download them from the vendor's URLs, which hosts without Internet
	// access (DMZ) cannot reach. It is the default (an unset value), as it
	// was before the setting existed.
	ForeignURLs ForeignLayers = "urls"
	// ForeignMirror copies foreign layers into the region's registry, so its
	// hosts fetch them from the region.
	ForeignMirror ForeignLayers = "mirror"
)

// foreignLayerChoices lists the values registries.regions.*.foreignLayers takes.
var foreignLayerChoices = []ForeignLayers{ForeignURLs, ForeignMirror}

// Mirrors reports whether the region copies foreign layers (ForeignMirror).
func (r Registry) Mirrors() bool { return r.ForeignLayers == ForeignMirror }

// foreignLayers checks a region's foreignLayers value.
func (v *validator) foreignLayers(l loc, r *Registry) {
	if r.ForeignLayers == "" || slices.Contains(foreignLayerChoices, r.ForeignLayers) {
		return
	}
	names := make([]string, len(foreignLayerChoices))
	for i, c := range foreignLayerChoices {
		names[i] = string(c)
	}
	v.errorf(l.field("foreignLayers"), "%s: want %s (where this region's hosts get foreign layers; the default is urls)",
		quote(string(r.ForeignLayers)), strings.Join(names, " or "))
}
