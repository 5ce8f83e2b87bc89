package registry

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/drover-dev/drover/internal/output"
)

// WriteTable writes one line per image and region: status, bytes moved,
// blobs uploaded, mounted and skipped, seconds, and the error of a copy
// that failed.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tREGION\tSTATUS\tMOVED\tUPLOADED\tMOUNTED\tSKIPPED\tTIME\tERROR")
	for _, x := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%.1fs\t%s\n", x.Image, x.Region, x.Status,
			output.HumanBytes(x.BytesMoved), x.BlobsUploaded, x.BlobsMounted, x.BlobsSkipped, x.Seconds, x.Error)
	}
	return tw.Flush()
}
