package inventory

import "testing"

// TestValidateStartFirstServices: strategy.startFirstServices names are
// checked offline for their form (stack/service, once each), with the
// file:line of the entry. Whether Rancher has such a service is known only
// to a run (rollout plan), not to validate.
func TestValidateStartFirstServices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "valid", in: `defaults: {strategy: {startFirstServices: [web/front, web/api]}}
environments:
  - {name: dev, region: eu, hosts: [{name: h1, docker: "tcp://127.0.0.1:2375"}]}
`},
		{name: "malformed and duplicate, in defaults and an environment", in: `defaults:
  strategy:
    startFirstServices:
      - front
      - web/api
      - "web/api "
      - web/api
environments:
  - name: dev
    region: eu
    strategy: {startFirstServices: [web/front/x, /api]}
    hosts: [{name: h1, docker: "tcp://127.0.0.1:2375"}]
`, want: []string{
			`x.yaml:9: defaults.strategy.startFirstServices[0]: want stack/service as Rancher names it (e.g. web/frontend), got "front"`,
			`x.yaml:11: defaults.strategy.startFirstServices[2]: want stack/service as Rancher names it (e.g. web/frontend), got "web/api "`,
			`x.yaml:12: defaults.strategy.startFirstServices[3]: duplicate service "web/api" (first at line 10)`,
			`x.yaml:16: environments[dev].strategy.startFirstServices[0]: want stack/service as Rancher names it (e.g. web/frontend), got "web/front/x"`,
			`x.yaml:16: environments[dev].strategy.startFirstServices[1]: want stack/service as Rancher names it (e.g. web/frontend), got "/api"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkFieldErrors(t, viaRancherBase+tt.in, nil, tt.want)
		})
	}
}
