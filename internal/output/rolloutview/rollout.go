package rolloutview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/drover-dev/drover/rollout"
)

// RolloutReport writes a run's report for people: one line per service,
// then the failures and the commands that resolve what is not active.
func RolloutReport(w io.Writer, r *rollout.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WAVE\tENV\tSERVICE\tOUTCOME\tSTATE\tHEALTH\tFROM\tTO")
	for _, e := range r.Envs {
		for _, s := range e.Services {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Wave, e.Env, s.Service, s.Outcome, rolloutDash(s.State), rolloutDash(s.Health), rolloutDash(s.From), rolloutDash(s.To))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range r.Envs {
		line := fmt.Sprintf("%s: %s", e.Env, e.Status)
		if e.Service != "" {
			line += " (" + e.Service + ")"
		}
		if e.Cause != "" && e.Cause != string(e.Status) {
			line += ": " + e.Cause
		}
		if e.Gate != nil && len(e.Gate.Inactive) > 0 {
			line += "; hosts left out (not active): " + strings.Join(e.Gate.Inactive, ", ")
		}
		fmt.Fprintln(w, line)
		for _, s := range e.Services {
			if s.Error != "" && s.Service != e.Service {
				fmt.Fprintf(w, "  %s: %s\n", s.Service, s.Error)
			}
		}
	}
	if cmds := r.Commands(); len(cmds) > 0 {
		fmt.Fprintln(w, "\nNot active; to resolve:")
		for _, c := range cmds {
			fmt.Fprintln(w, "  "+c)
		}
	}
	fmt.Fprintf(w, "took %s\n", r.Ended.Sub(r.Started).Round(1e6))
	return nil
}

// RolloutPlan writes a plan for people.
func RolloutPlan(w io.Writer, p *rollout.PlanReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WAVE\tENV\tSERVICE\tACTION\tSTATE\tCURRENT\tNEW\tBATCHES\tSTART-FIRST")
	for _, e := range p.Envs {
		for _, s := range e.Services {
			b := "-"
			if s.Batches > 0 {
				b = fmt.Sprintf("%d x %d (scale %d, every %dms)", s.Batches, s.BatchSize, s.Scale, e.Strategy.IntervalMillis)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Wave, e.Env, s.Service, s.Action, rolloutDash(s.State), rolloutDash(s.Current), s.New, b, s.StartFirstCell())
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range p.Envs {
		switch {
		case e.Error != "":
			fmt.Fprintf(w, "%s: cannot plan: %s\n", e.Env, e.Error)
		case e.Gate == nil:
			fmt.Fprintf(w, "%s: nothing to upgrade\n", e.Env)
		case e.Gate.Open:
			fmt.Fprintf(w, "%s: gate open (%d host/image pairs present)\n", e.Env, e.Gate.Checked)
		default:
			fmt.Fprintf(w, "%s: gate closed: %d of %d host/image pairs missing\n", e.Env, len(e.Gate.Missing), e.Gate.Checked)
			for _, m := range e.Gate.Missing {
				fmt.Fprintf(w, "  %s: %s %s\n", m.Host, m.Image, m.Error)
			}
		}
		if e.Gate != nil && len(e.Gate.Inactive) > 0 {
			fmt.Fprintf(w, "  left out (not active): %s\n", strings.Join(e.Gate.Inactive, ", "))
		}
		for _, warn := range e.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", warn)
		}
	}
	return nil
}

// RolloutStatus writes a status for people: one line per service (with the
// release's image when one was given: "yes" when the service runs it), the
// environments that could not be read, then the commands that resolve what
// is not active.
func RolloutStatus(w io.Writer, s *rollout.StatusReport) error {
	withTarget := false
	for _, e := range s.Envs {
		for _, x := range e.Services {
			withTarget = withTarget || x.Target != ""
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "ENV\tSERVICE\tSTATE\tHEALTH\tIMAGE\tPENDING\tPREVIOUS"
	if withTarget {
		head += "\tTARGET"
	}
	fmt.Fprintln(tw, head)
	var cmds []string
	for _, e := range s.Envs {
		for _, x := range e.Services {
			line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s", e.Env, x.Service, x.State, rolloutDash(x.Health), rolloutDash(x.Image), rolloutDash(x.Pending), rolloutDash(x.Previous))
			if withTarget {
				t := rolloutDash(x.Target)
				if x.AtTarget {
					t = "yes"
				}
				line += "\t" + t
			}
			fmt.Fprintln(tw, line)
			if x.Command != "" {
				cmds = append(cmds, x.Command)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var unlocks []string
	for _, e := range s.Envs {
		if e.Error != "" {
			fmt.Fprintf(w, "%s: cannot read: %s\n", e.Env, e.Error)
		}
		if e.Lease != "" {
			fmt.Fprintf(w, "%s: %s\n", e.Env, e.Lease)
		}
		if e.Unlock != "" {
			unlocks = append(unlocks, e.Unlock)
		}
	}
	if len(unlocks) > 0 {
		// Until the holder ends, finish and rollback exit 4: say so, and
		// how to remove the lease of a run that is gone, before them.
		fmt.Fprintln(w, "\nHeld by another run: apply, rollback and finish exit 4 until it ends. Only if that run is gone, remove its lease:")
		for _, c := range unlocks {
			fmt.Fprintln(w, "  "+c)
		}
	}
	if len(cmds) > 0 {
		fmt.Fprintln(w, "\nNot active; to resolve:")
		for _, c := range cmds {
			fmt.Fprintln(w, "  "+c)
		}
	}
	return nil
}

// rolloutDash shows an empty cell as "-".
func rolloutDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
