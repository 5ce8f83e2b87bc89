package registry

import (
	"time"
)

// Progress is one region's upload progress: bytes sent so far and bytes to
// send in this run (Total shrinks when a blob is mounted instead).
type Progress struct {
	Region string `json:"region"`
	Done   int64  `json:"done"`
	Total  int64  `json:"total"`
}

// Status is how an image ended up in a region.
type Status string

// Statuses in a Result.
const (
	StatusPresent  Status = "present"  // the region already had the manifest: nothing moved
	StatusMirrored Status = "mirrored" // blobs and manifests copied in this run
	StatusFailed   Status = "failed"   // see Error; rerunning resumes
)

// Report is what Mirror did, per image and region.
type Report struct {
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	// SourceBytes counts blob bytes read from the source registry.
	SourceBytes int64    `json:"sourceBytes"`
	Results     []Result `json:"results"`
}

// Result is one image in one region. A blob two images of the run share is
// counted for the first of them only.
type Result struct {
	Image      string `json:"image"`
	Repository string `json:"repository"`
	Region     string `json:"region"`
	Digest     string `json:"digest"`
	Status     Status `json:"status"`
	// BytesMoved counts blob bytes uploaded to the region for this image.
	BytesMoved    int64 `json:"bytesMoved"`
	BlobsSkipped  int   `json:"blobsSkipped"`  // already in the repository
	BlobsMounted  int   `json:"blobsMounted"`  // mounted from another repository of the region
	BlobsUploaded int   `json:"blobsUploaded"` // streamed from the source
	// ForeignLayers counts non-distributable layers left as references.
	ForeignLayers int     `json:"foreignLayers,omitempty"`
	Seconds       float64 `json:"seconds"`
	Error         string  `json:"error,omitempty"`
}

// Failed lists the results that failed.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == StatusFailed {
			out = append(out, res)
		}
	}
	return out
}

// PlanReport is what Mirror would move, per region, without writing anything.
type PlanReport struct {
	Regions []RegionPlan `json:"regions"`
}

// RegionPlan is one region's share of a PlanReport. MissingBytes counts each blob
// once per region, and not at all when the region holds it in another
// repository (it would be mounted).
type RegionPlan struct {
	Region       string      `json:"region"`
	Images       []PlanImage `json:"images"`
	MissingBlobs int         `json:"missingBlobs"`
	MissingBytes int64       `json:"missingBytes"`
}

// PlanImage is one image in one region.
type PlanImage struct {
	Image   string     `json:"image"`
	Digest  string     `json:"digest"`
	Present bool       `json:"present"`
	Missing []PlanBlob `json:"missing,omitempty"`
	Error   string     `json:"error,omitempty"`
}

// PlanBlob is a blob a region lacks.
type PlanBlob struct {
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	MediaType string `json:"mediaType"`
	Mount     bool   `json:"mount,omitempty"` // another repository of the region has it
}
