package fleet

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/drover-dev/drover/internal/output"
)

// WriteTable writes one line per host: state, bytes, seconds, and the
// error of a host that is not ready.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tENV\tREGION\tSTATE\tPULLED\tPRESENT\tBYTES\tSECONDS\tERROR")
	for _, h := range r.Hosts {
		pulled, present := 0, 0
		for _, im := range h.Images {
			switch im.Action {
			case ActionPulled:
				pulled++
			case ActionPresent:
				present++
			}
		}
		state := "ready"
		switch {
		case h.Interrupted:
			state = "INTERRUPTED"
		case !h.Ready:
			state = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%.1f\t%s\n", h.Name, h.Env, h.Region, state, pulled, present, output.HumanBytes(h.Bytes), h.Seconds, oneLine(h.Error))
	}
	fmt.Fprintf(tw, "%d hosts, %d not ready, %s pulled in %.1fs\n", len(r.Hosts), len(r.Failed()), output.HumanBytes(r.Bytes()), r.Seconds)
	return tw.Flush()
}

// WriteTable writes hosts x images, one column per image.
func (m *Matrix) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "HOST\tENV\tPLATFORM\t%s\n", strings.Join(m.Images, "\t"))
	for _, h := range m.Hosts {
		cells := make([]string, len(h.Cells))
		for i, c := range h.Cells {
			cells[i] = string(c.State)
		}
		pl := h.Platform
		if pl == "" {
			pl = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Name, h.Env, pl, strings.Join(cells, "\t"))
	}
	if nr := m.NotReady(); len(nr) > 0 {
		fmt.Fprintf(tw, "%d of %d hosts not ready: %s\n", len(nr), len(m.Hosts), strings.Join(nr, ", "))
	} else {
		fmt.Fprintf(tw, "all %d hosts hold every image\n", len(m.Hosts))
	}
	return tw.Flush()
}

// WriteTable lists removed (or, dry run, removable) and kept images.
func (p *PruneReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	verb := "removed"
	if p.DryRun {
		verb = "would remove"
	}
	fmt.Fprintln(tw, "HOST\tACTION\tREPOSITORY\tIMAGE\tCREATED\tSIZE\tREFS\tWHY")
	for _, im := range p.Removed {
		why := ""
		if im.Error != "" {
			why = "ERROR: " + oneLine(im.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Host, verb, im.Repository, shortID(im.ID), im.Created.Format("2006-01-02 15:04"), output.HumanBytes(im.Size), strings.Join(im.Refs, " "), why)
	}
	for _, im := range p.Kept {
		fmt.Fprintf(tw, "%s\tkeep\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Host, im.Repository, shortID(im.ID), im.Created.Format("2006-01-02 15:04"), output.HumanBytes(im.Size), strings.Join(im.Refs, " "), im.Reason)
	}
	fmt.Fprintf(tw, "%s: %s %d images, %s freed\n", p.Host, verb, len(p.Removed), output.HumanBytes(p.BytesFreed))
	return tw.Flush()
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	return id[:min(12, len(id))]
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }
