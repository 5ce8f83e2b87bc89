package netem

import "strings"

// Class is a kind of registry request, derived from the URL path.
type Class string

// Request classes of the registry API (and "other" for everything else).
const (
	ClassBase      Class = "base"      // /v2/
	ClassManifests Class = "manifests" // /v2/<name>/manifests/<ref>
	ClassBlobs     Class = "blobs"     // /v2/<name>/blobs/<digest>
	ClassUploads   Class = "uploads"   // /v2/<name>/blobs/uploads/...
	ClassTags      Class = "tags"      // /v2/<name>/tags/list
	ClassOther     Class = "other"
)

// Classify names the registry API class of a URL path and, for manifests,
// blobs and tags, the repository and reference (digest or tag) it names.
func Classify(path string) (c Class, repo, ref string) {
	if path == "/v2/" || path == "/v2" {
		return ClassBase, "", ""
	}
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ClassOther, "", ""
	}
	if i := strings.LastIndex(rest, "/blobs/uploads"); i > 0 {
		return ClassUploads, rest[:i], ""
	}
	if strings.HasSuffix(rest, "/tags/list") {
		return ClassTags, strings.TrimSuffix(rest, "/tags/list"), ""
	}
	for _, k := range []Class{ClassBlobs, ClassManifests} {
		sep := "/" + string(k) + "/"
		if i := strings.LastIndex(rest, sep); i > 0 {
			return k, rest[:i], rest[i+len(sep):]
		}
	}
	return ClassOther, "", ""
}
