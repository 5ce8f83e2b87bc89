package lab_test

import (
	"context"
	"fmt"
	"log"

	"github.com/drover-dev/drover/internal/lab"
)

// Start a lab of two regions and three environments, then hand its
// hosts.yaml to the tools (WriteInventory) and its secrets to their
// environment (Getenv or WriteEnvFile).
func ExampleStart() {
	l, err := lab.Start(context.Background(), lab.Config{Regions: 2, Envs: 3, HostsPerEnv: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	for _, e := range l.Envs() {
		fmt.Printf("%s in %s, wave %d, %d hosts, keys in $%s\n", e.Name, e.Region, e.Wave, len(e.Hosts), e.AccessKeyEnv)
	}
	fmt.Println("seeded:", l.Seeded[0].Ref, l.Seeded[1].Ref)
	// Output:
	// dev in eu-west, wave 0, 2 hosts, keys in $LAB_DEV_ACCESS_KEY
	// qa in us-east, wave 1, 2 hosts, keys in $LAB_QA_ACCESS_KEY
	// demo in eu-west, wave 2, 2 hosts, keys in $LAB_DEMO_ACCESS_KEY
	// seeded: app:1.0 app:1.1
}
