// Command rollout performs gated, batched Rancher 1.6 service upgrades in
// waves across environments, and finishes or rolls back on its own.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/drover-dev/drover/internal/cli"
)

// commands lists rollout's subcommands; each lives in its own file.
func commands() []*cli.Command {
	return []*cli.Command{
		cli.ValidateCommand("rollout", true),
		planCmd(),
		applyCmd(),
		statusCmd(),
		finishCmd(),
		rollbackCmd(),
		unlockCmd(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, "rollout", commands(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
