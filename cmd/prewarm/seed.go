package main

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

func seedCmd() *cli.Command {
	var f fleetFlags
	var host, docker string
	var noRancher bool
	return &cli.Command{
		Name:    "seed",
		Summary: "fill a new host with the images its environment runs now (the host-recycle hook)",
		Usage: "prewarm seed (--host NAME | --docker ENDPOINT --env ENV) [-f release.yaml] [flags]\n\n" +
			"Reads from Rancher every service's image and its previous image (so a rollback is\n" +
			"fast on the new host too), adds the release lock's images when given, and pulls\n" +
			"them. Runs on the new VM (unix socket) or remotely. Exit 0 only when all are present.",
		Flags: func(fs *pflag.FlagSet) {
			f.register(fs, true)
			fs.Lookup("env").Usage = "the environment of the --docker host (exactly one)"
			fs.StringVar(&host, "host", "", "inventory host to seed")
			fs.StringVar(&docker, "docker", "", "Docker endpoint to seed (with --env), e.g. unix:///var/run/docker.sock or npipe:////./pipe/docker_engine")
			fs.BoolVar(&noRancher, "no-rancher", false, "seed only the lock's images")
			_ = fs.MarkHidden("hosts")       // one host: --host or --docker
			_ = fs.MarkHidden("concurrency") // one host at a time
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if f.fs.Changed("hosts") {
				return cli.Usage("seed fills one host: give --host NAME (or --docker ENDPOINT --env ENV), not --hosts")
			}
			if (host == "") == (docker == "") {
				return cli.Usage("give exactly one of --host and --docker")
			}
			if docker != "" && len(f.envs) != 1 {
				return cli.Usage("--docker needs --env with one environment")
			}
			f.hosts, f.noTargets = []string{host}, docker != ""
			fl, err := f.load(ctx, env, args, false)
			if err != nil {
				return err
			}
			target, err := seedTarget(fl, f.envs, docker)
			if err != nil {
				return err
			}
			var src fleet.ServiceImages
			if !noRancher && rancher.Named(fl.inv, env.Getenv) {
				if src, err = rancherImages(fl.inv, target.Env, env); err != nil {
					return cli.Usage("%v", err)
				}
			}
			show, stop := hostBars(env, []fleet.Target{target})
			rep, err := fleet.Seed(ctx, target, src, fl.lock, append(fl.opts, show)...)
			stop()
			if rep == nil {
				return cli.Failed(err)
			}
			if werr := output.Print(env.Stdout, env.JSON, rep, rep.WriteTable); werr != nil {
				return werr
			}
			return notReady(ctx, rep.Failed(), 1)
		},
	}
}

// seedTarget is the inventory host, or an endpoint given by --docker in
// the region of --env.
func seedTarget(fl *loaded, envs []string, docker string) (fleet.Target, error) {
	if docker == "" {
		return fl.targets[0], nil
	}
	if err := inventory.CheckDockerEndpoint(docker); err != nil {
		return fleet.Target{}, cli.Usage("--docker: %v", err)
	}
	for _, e := range fl.inv.Environments {
		if e.Name == envs[0] {
			reg := fl.inv.Registries.Regions[e.Region]
			return fleet.Target{Name: docker, Env: e.Name, Region: e.Region, Registry: reg.Address, Docker: docker}, nil
		}
	}
	return fleet.Target{}, cli.Usage("environment %q is not in the inventory (it has: %s)", envs[0], strings.Join(fl.inv.EnvNames(), ", "))
}

// rancherImages adapts the Rancher client to what Seed needs, connected
// as every command connects (rancher.Resolve).
func rancherImages(inv *inventory.Inventory, envName string, env *cli.Env) (fleet.ServiceImages, error) {
	c, project, err := rancher.Connect(inv, envName, env.Getenv, rancher.WithLogger(env.Logger))
	if errors.Is(err, rancher.ErrNotConfigured) {
		return nil, cli.Usage("%v", err)
	}
	if err != nil {
		return nil, err
	}
	return fleet.RancherImages(c, func(string) string { return project }), nil
}
