// Command lab runs Drover's lab (registries, simulated Docker hosts and a
// Rancher 1.6 simulator on 127.0.0.1) as a process, and writes a hosts.yaml
// that points at it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/drover-dev/drover/internal/cli"
)

// commands lists lab's subcommands; each lives in its own file.
func commands() []*cli.Command {
	return []*cli.Command{
		upCmd(),
		demoCmd(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, "lab", commands(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
