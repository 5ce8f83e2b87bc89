package rancher_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
	"github.com/drover-dev/drover/rancher"
)

type noopEngine struct{ n int }

func (e *noopEngine) EnsureImage(context.Context, string, bool) error { return nil }
func (e *noopEngine) CreateContainer(string, string) (string, error) {
	e.n++
	return fmt.Sprint("c", e.n), nil
}
func (e *noopEngine) StartContainer(string) error  { return nil }
func (e *noopEngine) StopContainer(string) error   { return nil }
func (e *noopEngine) RemoveContainer(string) error { return nil }

// An in-service upgrade: find the service, upgrade it, wait, finish.
func Example() { //nolint:forbidigo // an Example prints what it shows

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A simulated Rancher with one environment and one service.
	sim, err := ranchersim.Start(ctx, ranchersim.WithEventPeriod(50*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	p := sim.AddProject("dev", ranchersim.Keys{Access: "AK", Secret: "SK"})
	p.AddHost("host1", "10.0.0.1", nil, &noopEngine{})
	simSvc, err := p.AddService("web", "frontend", "registry.eu/app:1.3", 1)
	if err != nil {
		log.Fatal(err)
	}
	if err := simSvc.WaitState(ctx, "active"); err != nil {
		log.Fatal(err)
	}

	c, err := rancher.New(sim.URL(), "AK", "SK") // or rancher.FromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	proj, err := c.Project(ctx, "dev")
	if err != nil {
		log.Fatal(err)
	}
	svc, err := c.ServiceByPath(ctx, proj.ID, "web/frontend")
	if err != nil {
		log.Fatal(err)
	}
	svc, err = c.Upgrade(ctx, svc, rancher.UpgradeSpec{Image: "registry.eu/app:1.4", BatchSize: 1, IntervalMillis: 100})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.State, svc.Image())
	svc, err = c.WaitFor(ctx, svc, rancher.FailOnError(rancher.StateIs(rancher.StateUpgraded)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.State, "from", svc.Upgrade.InServiceStrategy.PreviousLaunchConfig.Image())
	if _, err := c.Upgrade(ctx, svc, rancher.UpgradeSpec{Image: "registry.eu/app:1.5"}); rancher.IsActionNotAvailable(err) {
		fmt.Println("upgrade refused while upgraded")
	}
	if svc, err = c.FinishUpgrade(ctx, svc); err != nil {
		log.Fatal(err)
	}
	if svc, err = c.WaitState(ctx, svc, rancher.StateActive); err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.State, svc.Image())
	// Output:
	// upgrading registry.eu/app:1.4
	// upgraded from registry.eu/app:1.3
	// upgrade refused while upgraded
	// active registry.eu/app:1.4
}
