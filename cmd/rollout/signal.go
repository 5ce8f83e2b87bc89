package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/drover-dev/drover/internal/cli"
)

// secondSignal closes abort on the second SIGINT/SIGTERM (main's context
// ends on the first one).
func secondSignal(env *cli.Env) (abort chan struct{}, stop func()) {
	abort = make(chan struct{})
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-ch:
			case <-quit:
				return
			}
			if n == 1 {
				env.Logger.Warn("interrupted: starting nothing new, bringing in-flight services to rest; interrupt again to abort")
				continue
			}
			env.Logger.Warn("aborting")
			close(abort)
			return
		}
	}()
	return abort, func() { signal.Stop(ch); close(quit) }
}
