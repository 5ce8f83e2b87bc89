package inventory_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/drover-dev/drover/inventory"
)

func ExampleLoad() {
	const hosts = `version: 1
registries:
  source: {address: build.example.com}
  regions:
    eu: {address: registry.eu.example.com}
defaults:
  strategy: {batchSize: 2}
environments:
  - name: dmz-eu
    region: eu
    wave: 1
    hosts:
      - {name: dmz-eu-01, docker: "unix:///var/run/docker.sock"}
`
	inv, err := inventory.Load(strings.NewReader(hosts), "hosts.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := inv.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	env := inv.Env("dmz-eu")
	fmt.Println(env.Strategy.BatchSize, env.Strategy.IntervalMillis, env.Pull.Timeout, inv.RegistryFor(env).Address)
	// Output: 2 2000 30m registry.eu.example.com
}

func ExampleInventory_Validate() {
	const hosts = `version: 1
registries:
  source: {address: build.example.com}
  regions:
    eu: {address: registry.eu.example.com}
environments:
  - name: dmz-eu
    region: us
    strategy: {intervalMillis: 50}
    hosts:
      - {name: h1, docker: "tcp://10.0.0.1:2375"}
`
	inv, err := inventory.Load(strings.NewReader(hosts), "hosts.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fe := range inventory.FieldErrors(inv.Validate()) {
		fmt.Println(fe)
	}
	// Output:
	// hosts.yaml:8: environments[dmz-eu].region: unknown region "us" (registries.regions has: eu)
	// hosts.yaml:9: environments[dmz-eu].strategy.intervalMillis: must be at least 100 (Rancher's minimum), got 50
	// hosts.yaml:11: environments[dmz-eu].hosts[0].docker: plaintext tcp:// to a remote host: set tls (ca, cert, key), or insecure: true to allow it
}

func ExampleLockImage_PullRef() {
	im := inventory.LockImage{Name: "app", Repository: "team/app", Tag: "1.4", Digest: "sha256:0123"}
	fmt.Println(im.PullRef("registry.eu.example.com"))
	fmt.Println(im.DeployRef("registry.eu.example.com"))
	// Output:
	// registry.eu.example.com/team/app@sha256:0123
	// registry.eu.example.com/team/app:1.4
}

func ExampleDescribe() {
	inv, err := inventory.LoadFile("../testdata/hosts/good-minimal.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = inventory.Describe(os.Stdout, inv, os.Getenv, false)
	// Output:
	// # Effective inventory from ../testdata/hosts/good-minimal.yaml (defaults merged down).
	// version: 1
	// defaults:
	//   strategy:
	//     batchSize: 1
	//     intervalMillis: 2000
	//     startFirst: true
	//   concurrency: 2
	//   retention:
	//     keep: 2
	//   pull:
	//     timeout: 30m
	//     concurrency: 4
	// registries:
	//   source:
	//     address: build.example.com
	//     insecure: false
	//   regions:
	//     eu:
	//       address: registry.eu.example.com
	//       insecure: false
	//       foreignLayers: urls
	// rancher:
	//   url: ""
	// environments:
	//   - name: dev
	//     region: eu
	//     project: dev
	//     wave: 0
	//     strategy:
	//       batchSize: 1
	//       intervalMillis: 2000
	//       startFirst: true
	//     concurrency: 2
	//     retention:
	//       keep: 2
	//     pull:
	//       timeout: 30m
	//       concurrency: 4
	//     hosts:
	//       - name: local
	//         docker: unix:///var/run/docker.sock
	// # Credentials: none named.
}
