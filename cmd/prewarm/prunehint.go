package main

import (
	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
)

// pruneCommand is the prune a full disk's error offers, with this run's
// inventory and release so that it runs as printed; without a release it
// names the image's repository (prune needs one or the other).
func pruneCommand(env *cli.Env, f *fleetFlags) fleet.PruneCommand {
	return func(envName, repository string) string {
		cmd := "prewarm prune -c " + cli.Quote(env.ConfigPath())
		switch {
		case f.release != "":
			cmd += " -f " + cli.Quote(f.release)
			if f.lock != "" {
				cmd += " --lock " + cli.Quote(f.lock)
			}
		case f.lock != "":
			cmd += " --lock " + cli.Quote(f.lock)
		default:
			cmd += " --repo " + cli.Quote(repository)
		}
		return cmd + " --env " + cli.Quote(envName)
	}
}
