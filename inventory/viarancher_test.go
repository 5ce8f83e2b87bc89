package inventory

import (
	"strings"
	"testing"
)

const viaRancherBase = `version: 1
registries:
  source: {address: "127.0.0.1:5000"}
  regions:
    eu: {address: "127.0.0.1:5001"}
`

func TestValidateViaRancher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts []ValidateOption
		want []string // field errors, one a line; none: valid
	}{
		{name: "discover through rancher", in: `rancher: {url: "https://rancher.example"}
defaults: {credentials: {accessKeyEnv: DMZ_ACCESS, secretKeyEnv: DMZ_SECRET}}
environments:
  - {name: dmz, region: eu, discover: {from: rancher, docker: rancher}}
`},
		{name: "listed host through rancher", in: `rancher: {url: "https://rancher.example"}
environments:
  - name: dmz
    region: eu
    credentials: {accessKeyEnv: DMZ_ACCESS, secretKeyEnv: DMZ_SECRET}
    hosts:
      - {name: web-1, docker: rancher}
      - {name: web-2, docker: rancher}
`},
		{name: "tls and insecure do not apply", in: `rancher: {url: "https://rancher.example"}
defaults: {credentials: {accessKeyEnv: DMZ_ACCESS, secretKeyEnv: DMZ_SECRET}}
environments:
  - name: dmz
    region: eu
    hosts:
      - {name: web-1, docker: rancher, insecure: true, tls: {ca: ca.pem}}
  - {name: dmz2, region: eu, discover: {from: rancher, docker: rancher, insecure: true}}
`, opts: []ValidateOption{CheckFiles(false)}, want: []string{
			"x.yaml:12: environments[dmz].hosts[0].insecure: docker: rancher reaches the host through Rancher: insecure does not apply",
			"x.yaml:12: environments[dmz].hosts[0].tls: docker: rancher reaches the host through Rancher: tls does not apply (rancher.caCert verifies Rancher)",
			"x.yaml:13: environments[dmz2].discover.insecure: docker: rancher reaches hosts through Rancher: insecure does not apply",
		}},
		{name: "no rancher url, no credentials: names only ($RANCHER_URL and the conventional keys at run time)", in: `environments:
  - name: dmz
    region: eu
    hosts:
      - {name: web-1, docker: rancher}
`},
		{name: "no rancher url, no credentials, require credentials", in: `environments:
  - name: dmz
    region: eu
    hosts:
      - {name: web-1, docker: rancher}
`, opts: []ValidateOption{RequireCredentials(func(string) string { return "" })}, want: []string{
			"x.yaml:1: rancher.url: required: environment dmz reaches its hosts through Rancher: set it here or export $RANCHER_URL",
			"x.yaml:7: environments[dmz].credentials: required to talk to Rancher: set accessKeyEnv and secretKeyEnv (a key whose role has modifyInfra, e.g. an environment API key) here or in defaults.credentials, or export $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY",
		}},
		{name: "require credentials checks the key variables", in: `rancher: {url: "https://rancher.example"}
defaults: {credentials: {accessKeyEnv: DMZ_ACCESS, secretKeyEnv: DMZ_SECRET}}
environments:
  - {name: dmz, region: eu, discover: {from: rancher, docker: rancher}}
`, opts: []ValidateOption{RequireCredentials(func(string) string { return "" })}, want: []string{
			"x.yaml:7: defaults.credentials.accessKeyEnv: $DMZ_ACCESS is not set",
			"x.yaml:7: defaults.credentials.secretKeyEnv: $DMZ_SECRET is not set",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkFieldErrors(t, viaRancherBase+tt.in, tt.opts, tt.want)
		})
	}
}

// checkFieldErrors loads in as x.yaml, validates it with opts, and wants
// exactly the field errors want, in order (none: valid).
func checkFieldErrors(t *testing.T, in string, opts []ValidateOption, want []string) {
	t.Helper()
	inv, err := Load(strings.NewReader(in), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = inv.Validate(opts...)
	var got []string
	for _, fe := range FieldErrors(err) {
		got = append(got, fe.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s\n(err %v)", strings.Join(got, "\n"), strings.Join(want, "\n"), err)
	}
}
