// Command prewarm mirrors release images to regional registries and pulls
// them onto every Docker host before anyone deploys.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/drover-dev/drover/internal/cli"
)

// commands lists prewarm's subcommands; each lives in its own file.
func commands() []*cli.Command {
	return []*cli.Command{
		cli.ValidateCommand("prewarm", false),
		pullCmd(),
		statusCmd(),
		seedCmd(),
		pruneCmd(),
		runCmd(),
		mirrorCmd(),
		planCmd(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, "prewarm", commands(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
