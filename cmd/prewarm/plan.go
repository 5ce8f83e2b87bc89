package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/prewarm"
	"github.com/drover-dev/drover/registry"
)

func planCmd() *cli.Command {
	f := &imageFlags{}
	return &cli.Command{
		Name:    "plan",
		Summary: "show, per region, the images and blobs mirror would move; write nothing",
		Usage: "prewarm plan [-f release.yaml] [IMAGE...] [flags]\n\n" +
			"Resolves like mirror (a moved tag is an error unless --relock) but writes no lock\n" +
			"and nothing to any registry: only HEAD and GET requests. Then lists the hosts that\n" +
			"will download foreign (non-distributable) layers from the vendor's URLs: those of\n" +
			"regions left at foreignLayers: urls (none with --nondistributable).",
		Flags: f.register,
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			return runPlan(ctx, env, f, args)
		},
	}
}

func runPlan(ctx context.Context, env *cli.Env, f *imageFlags, args []string) error {
	inv, lock, opts, err := f.prepare(ctx, env, args)
	if err != nil {
		return err
	}
	plan, err := registry.Plan(ctx, lock, inv.Registries.Source, inv.Registries.Regions, opts...)
	if plan == nil {
		return cli.Usage("%w", err)
	}
	var outside []prewarm.OutsideFetch
	var ferr error
	if !f.foreign && prewarm.FetchesOutside(inv, nil) { // --nondistributable copies foreign layers into every region
		var layers []registry.ForeignLayer
		layers, ferr = registry.ForeignLayers(ctx, lock, inv.Registries.Source, opts...)
		outside = prewarm.OutsideFetches(inv, nil, layers)
	}
	if env.JSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			*registry.PlanReport
			Outside []prewarm.OutsideFetch `json:"outsideFetches,omitempty"`
		}{plan, outside})
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REGION\tIMAGE\tDIGEST\tPRESENT\tMISSING BLOBS\tERROR")
		for _, rp := range plan.Regions {
			for _, im := range rp.Images {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%s\n", rp.Region, im.Image, short(im.Digest), im.Present, len(im.Missing), im.Error)
			}
		}
		_ = tw.Flush()
		for _, rp := range plan.Regions {
			fmt.Fprintf(env.Stdout, "%s: %d blobs, %s to move\n", rp.Region, rp.MissingBlobs, output.HumanBytes(rp.MissingBytes))
		}
		printOutside(env, outside)
	}
	return cli.Failed(errors.Join(err, ferr))
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

// printOutside lists the hosts that will download foreign layers from the
// vendor's URLs rather than from their region.
func printOutside(env *cli.Env, outside []prewarm.OutsideFetch) {
	if len(outside) == 0 {
		return
	}
	fmt.Fprintln(env.Stdout, "\nHosts that will download foreign layers from outside their region (its foreignLayers is urls;\n"+
		"set registries.regions.REGION.foreignLayers: mirror where hosts cannot reach these URLs):")
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tREGION\tHOSTS\tIMAGE\tLAYERS\tSIZE\tFROM")
	for _, o := range outside {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", o.Env, o.Region, o.HostList(), o.Image, o.Layers, output.HumanBytes(o.Bytes), strings.Join(o.From, ","))
	}
	_ = tw.Flush()
}
