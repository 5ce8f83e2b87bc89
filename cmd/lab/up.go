package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/lab"
)

type upFlags struct {
	regions, envs, hosts, layers, base  int
	images                              []string
	imageSize, extractRate, disk        string
	multiArch, foreign, impl, dir       string
	write, envFile                      string
	links, faults, discover, viaRancher []string
	windowsHosts, foreignMirror         []string
	windowsBuild                        string
	sourceAuth                          bool
	services, hostPort                  int
	serviceImage                        string
	healthDelay                         time.Duration
	batchSize, batchInterval            int
}

func upCmd() *cli.Command {
	f := &upFlags{}
	return &cli.Command{
		Name:        "up",
		NoInventory: true,
		Summary:     "start a lab and run it until interrupted",
		Usage: `lab up [flags]

Starts a source registry seeded with --images, one registry per region,
--envs environments of --hosts-per-env simulated Docker hosts and a Rancher
1.6 simulator (with --services N, N services per environment running
--service-image from the environment's region, already on every host), all
on 127.0.0.1, then prints the hosts.yaml pointing at them
(or writes it with --write; with --json, stdout gets a JSON description
holding it) and runs until SIGINT or SIGTERM.

The Rancher API keys (and the source registry's password with
--source-auth) are lab secrets: they go to --env-file (default: the --write
path plus .env), never to stdout or logs.

Links (--link, repeatable): source:LINK, regions:LINK, region=NAME:LINK,
hosts:LINK, host=NAME:LINK, where LINK is RATE/s and/or a latency, e.g.
region=eu-west:10MB/s,50ms.

Faults (--fault, repeatable), turned on once the lab is up:
  registry=NAME:ACTION[@N]  NAME source or a region; ACTION 500, 503, 429,
                            5xx, reset (cut a blob download), down or hang;
                            @N: the Nth request from now (default 1)
  host=NAME:ACTION          down, hang or fail-pull
  rancher:STATUS[@N]        the next N API requests answer STATUS (a 5xx)
  rancher:action=STATUS     the next action answers STATUS (a 4xx or 5xx,
                            e.g. 422, 409 or 500)
  rancher:never-healthy=GLOB  new containers of the services matching GLOB
                            (stack/service or service, e.g. web/svc01)
                            never become healthy
  rancher:never-healthy-image=GLOB  the same for new containers whose image
                            matches GLOB (e.g. */app:1.2)
  rancher:restart           stop and serve again on the same port
  rancher:drop-ws           close every subscribe websocket
  rancher:dockersocket=STATUS  every host's dockersocket action answers
                            STATUS: 403 Forbidden or 422
                            ActionNotAvailable, as Cattle does (0 clears)
  rancher:agent-down=HOST   HOST's agent disconnects: the host reports
                            reconnecting, its relayed websockets close
  rancher:agent-up=HOST     HOST's agent comes back
  rancher:relay-drop=BYTES  the next dockersocket websocket is cut after
                            BYTES from dockerd (a dropped link mid-stream)`,
		Flags: func(fs *pflag.FlagSet) {
			fs.IntVar(&f.regions, "regions", 3, "regional registries")
			fs.IntVar(&f.envs, "envs", 4, "environments (dev, qa, demo, then dmz-<region>)")
			fs.IntVar(&f.hosts, "hosts-per-env", 5, "simulated Docker hosts per environment")
			fs.StringSliceVar(&f.images, "images", []string{"app:1.0", "app:1.1"}, "images seeded into the source registry")
			fs.StringVar(&f.imageSize, "image-size", "4MiB", "approximate size of each image")
			fs.IntVar(&f.layers, "layers", 4, "layers per image")
			fs.IntVar(&f.base, "base", 0, "leading layers the tags of a repository share (0: half, -1: none)")
			fs.IntVar(&f.services, "services", 0, "Rancher services per environment (web/svc01...), running --service-image, healthy after --health-delay")
			fs.StringVar(&f.serviceImage, "service-image", "", "image the services run at start (default: the first of --images)")
			fs.IntVar(&f.hostPort, "host-port", 0, "the services publish host ports N, N+1... (web/svc01 N:80/tcp), held per host as in Rancher: with a startFirst upgrade and no spare host, \"host needs ports ... available\"")
			fs.DurationVar(&f.healthDelay, "health-delay", 500*time.Millisecond, "how long a new service container is initializing")
			fs.IntVar(&f.batchSize, "batch-size", 0, "defaults.strategy.batchSize in the hosts.yaml (0: the inventory's default)")
			fs.IntVar(&f.batchInterval, "batch-interval", 0, "defaults.strategy.intervalMillis in the hosts.yaml (0: the inventory's default)")
			fs.StringVar(&f.multiArch, "multi-arch", "", "also seed this reference as a linux+windows manifest list")
			fs.StringVar(&f.foreign, "foreign", "", "also seed this reference with a foreign (non-distributable) base layer (a list with --windows-hosts); as with dockerd, only Windows hosts follow its URL: Linux hosts pull it only from a region with foreignLayers: mirror")
			fs.StringSliceVar(&f.foreignMirror, "foreign-layers-mirror", nil, "regions the hosts.yaml sets to foreignLayers: mirror (the mirror copies foreign layers into them; their hosts fetch nothing from the URLs); the others stay at urls")
			fs.StringSliceVar(&f.discover, "discover", nil, "environments the hosts.yaml leaves to Rancher discovery instead of listing hosts")
			fs.StringSliceVar(&f.windowsHosts, "windows-hosts", nil, "environments whose hosts are Windows hosts of --windows-build; the lab's images become manifest lists of linux/amd64 and windows/amd64 "+strings.Join(lab.WindowsBuilds, " and "))
			fs.StringVar(&f.windowsBuild, "windows-build", "", "the Windows hosts' build, major.minor.build (default "+lab.DefaultWindowsBuild+")")
			fs.StringSliceVar(&f.viaRancher, "via-rancher", nil, "environments whose hosts are reached only through Rancher (discover: {from: rancher, docker: rancher}, no tcp:// endpoints; the simulator relays each host's dockersocket)")
			fs.BoolVar(&f.sourceAuth, "source-auth", false, "the source registry requires a generated user/password (in --env-file)")
			fs.StringVar(&f.impl, "impl", "distribution", "registry implementation: distribution or ggcr")
			fs.StringVar(&f.extractRate, "extract-rate", "0", "host layer extraction speed, e.g. 200MB (0: instant)")
			fs.StringVar(&f.disk, "disk-capacity", "0", "host disk capacity, e.g. 20GiB (0: unlimited)")
			fs.StringVar(&f.dir, "dir", "", "keep registry data here (default: temporary, removed on exit)")
			fs.StringArrayVar(&f.links, "link", nil, "shape a link (repeatable; see above)")
			fs.StringArrayVar(&f.faults, "fault", nil, "inject a fault once up (repeatable; see above)")
			fs.StringVar(&f.write, "write", "", "write the hosts.yaml here instead of stdout")
			fs.StringVar(&f.envFile, "env-file", "", "write the lab's Rancher keys here as export lines (default: --write path + .env)")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error { return runUp(ctx, env, f, args) },
	}
}

func runUp(ctx context.Context, env *cli.Env, f *upFlags, args []string) error {
	if len(args) > 0 {
		return cli.Usage("lab up takes no arguments, got %q", args)
	}
	cfg, faults, err := f.config()
	if err != nil {
		return err
	}
	cfg.Logger = env.Logger
	err = lab.Serve(ctx, cfg, lab.ServeOptions{Faults: faults, Write: f.write, EnvFile: f.envFile, JSON: env.JSON, Out: env.Stdout})
	if errors.Is(err, lab.ErrFault) || errors.Is(err, lab.ErrConfig) {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return err
}
