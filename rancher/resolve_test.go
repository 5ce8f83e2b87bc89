package rancher_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rancher"
)

// TestResolve is the one way every command (rollout, prewarm seed, discover,
// prune) reaches an environment's Rancher: URL from the inventory or
// $RANCHER_URL, keys from the named variables or $RANCHER_ACCESS_KEY and
// _SECRET_KEY, project by id or by name (the loader defaults it to the
// environment's name).
func TestResolve(t *testing.T) {
	t.Parallel()
	inv := func(url, creds, project string) *inventory.Inventory {
		t.Helper()
		y := "version: 1\nregistries:\n  source: {address: src.example.com}\n  regions:\n    eu: {address: eu.example.com}\n"
		if url != "" {
			y += "rancher:\n  url: " + url + "\n"
		}
		y += "environments:\n  - name: dev\n    region: eu\n    hosts: [{name: dev-01, docker: \"unix:///var/run/docker.sock\"}]\n"
		if creds != "" {
			y += "    credentials: " + creds + "\n"
		}
		if project != "" {
			y += "    project: " + project + "\n"
		}
		i, err := inventory.Load(strings.NewReader(y), "hosts.yaml")
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		return i
	}
	vars := map[string]string{"DEV_AK": "ak-dev", "DEV_SK": "sk-dev", "RANCHER_URL": "https://env.example.com", "RANCHER_ACCESS_KEY": "ak-env", "RANCHER_SECRET_KEY": "sk-env"}
	getenv := func(unset ...string) func(string) string {
		return func(k string) string {
			for _, u := range unset {
				if u == k {
					return ""
				}
			}
			return vars[k]
		}
	}
	named := "{accessKeyEnv: DEV_AK, secretKeyEnv: DEV_SK}"
	tests := []struct {
		name    string
		inv     *inventory.Inventory
		env     string
		getenv  func(string) string
		want    rancher.Settings
		wantErr string // substring; the error wraps ErrNotConfigured
	}{
		{name: "inventory url, named keys, project by name", inv: inv("https://r.example.com", named, "Prod-EU"), env: "dev", getenv: getenv(),
			want: rancher.Settings{Env: "dev", URL: "https://r.example.com", AccessKey: "ak-dev", SecretKey: "sk-dev", Project: "Prod-EU"}},
		{name: "project by id", inv: inv("https://r.example.com", named, "1a5"), env: "dev", getenv: getenv(),
			want: rancher.Settings{Env: "dev", URL: "https://r.example.com", AccessKey: "ak-dev", SecretKey: "sk-dev", Project: "1a5"}},
		{name: "url from $RANCHER_URL, keys from $RANCHER_ACCESS_KEY", inv: inv("", "", ""), env: "dev", getenv: getenv(),
			want: rancher.Settings{Env: "dev", URL: "https://env.example.com", AccessKey: "ak-env", SecretKey: "sk-env", Project: "dev"}},
		{name: "no keys anywhere: anonymous", inv: inv("https://r.example.com", "", ""), env: "dev", getenv: getenv("RANCHER_ACCESS_KEY", "RANCHER_SECRET_KEY"),
			want: rancher.Settings{Env: "dev", URL: "https://r.example.com", Project: "dev"}},
		{name: "no url", inv: inv("", named, ""), env: "dev", getenv: getenv("RANCHER_URL"), wantErr: "set rancher.url in hosts.yaml (or $RANCHER_URL)"},
		{name: "http $RANCHER_URL without rancher.insecure", inv: inv("", named, ""), env: "dev", getenv: func(k string) string {
			if k == "RANCHER_URL" {
				return "http://r.example.com"
			}
			return vars[k]
		}, wantErr: "$RANCHER_URL"},
		{name: "named key variable unset", inv: inv("https://r.example.com", named, ""), env: "dev", getenv: getenv("DEV_SK"), wantErr: "$DEV_SK is not set"},
		{name: "half of the conventional pair", inv: inv("https://r.example.com", "", ""), env: "dev", getenv: getenv("RANCHER_SECRET_KEY"), wantErr: "set both $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY"},
		{name: "unknown environment", inv: inv("https://r.example.com", named, ""), env: "prod", getenv: getenv(), wantErr: "environment prod is not in hosts.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := rancher.Resolve(tc.inv, tc.env, tc.getenv)
			if tc.wantErr != "" {
				if !errors.Is(err, rancher.ErrNotConfigured) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve: %v, want ErrNotConfigured containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got != tc.want {
				t.Errorf("Resolve = %+v, want %+v", got, tc.want)
			}
			if s := got.String() + got.GoString(); got.SecretKey != "" && strings.Contains(s, got.SecretKey) {
				t.Errorf("String shows the secret key: %s", s)
			}
		})
	}
}

// TestProjectFor: the inventory's project, else the key's default project
// (a key scoped to one project), else the environment's name.
func TestProjectFor(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	scoped, err := rancher.New(srv.URL+"/v2-beta/projects/1a7", "", "")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := rancher.New(srv.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    rancher.Settings
		c    *rancher.Client
		want string
	}{
		{rancher.Settings{Env: "dev", Project: "Prod"}, scoped, "Prod"},
		{rancher.Settings{Env: "dev"}, scoped, "1a7"},
		{rancher.Settings{Env: "dev"}, plain, "dev"},
	} {
		if got := tc.s.ProjectFor(tc.c); got != tc.want {
			t.Errorf("%v.ProjectFor(%v) = %q, want %q", tc.s, tc.c, got, tc.want)
		}
	}
}

// TestNamed: Rancher is named by rancher.url, else by $RANCHER_URL, the
// same URL rule Resolve follows.
func TestNamed(t *testing.T) {
	t.Parallel()
	with := &inventory.Inventory{Rancher: inventory.Rancher{URL: "https://r.example.com"}}
	without := &inventory.Inventory{}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "RANCHER_URL" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		inv  *inventory.Inventory
		url  string
		want bool
	}{
		{with, "", true}, {without, "https://env.example.com", true}, {with, "https://env.example.com", true}, {without, "", false},
	} {
		if got := rancher.Named(tc.inv, env(tc.url)); got != tc.want {
			t.Errorf("Named(rancher.url %q, $RANCHER_URL %q) = %v, want %v", tc.inv.Rancher.URL, tc.url, got, tc.want)
		}
	}
}

// TestResolveAgreesWithValidate: rollout validate --require-credentials
// (RequireCredentials, RequireRancher) accepts exactly the inventories and
// environments Resolve connects with, save one: no keys at all, which
// Resolve takes for a Rancher without access control and a command that
// requires credentials refuses.
func TestResolveAgreesWithValidate(t *testing.T) {
	t.Parallel()
	urls := []string{"", "url: https://r.example.com", "url: http://r.example.com\n  insecure: true"}
	creds := []string{"", "    credentials: {accessKeyEnv: DEV_AK, secretKeyEnv: DEV_SK}\n"}
	vars := []string{"RANCHER_URL", "RANCHER_ACCESS_KEY", "RANCHER_SECRET_KEY", "DEV_AK", "DEV_SK"}
	envURLs := []string{"https://env.example.com", "http://env.example.com", "env.example.com"}
	for _, u := range urls {
		for _, c := range creds {
			y := "version: 1\nregistries:\n  source: {address: src.example.com}\n  regions:\n    eu: {address: eu.example.com}\n"
			if u != "" {
				y += "rancher:\n  " + u + "\n"
			}
			y += "environments:\n  - name: dev\n    region: eu\n    hosts: [{name: dev-01, docker: \"unix:///var/run/docker.sock\"}]\n" + c
			inv, err := inventory.Load(strings.NewReader(y), "hosts.yaml")
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			// Every subset of the variables set, $RANCHER_URL in each form.
			for set := range 1 << len(vars) {
				for _, envURL := range envURLs {
					values := map[string]string{}
					for i, k := range vars {
						if set&(1<<i) != 0 {
							values[k] = "v-" + k
						}
					}
					if values["RANCHER_URL"] != "" {
						values["RANCHER_URL"] = envURL
					}
					getenv := func(k string) string { return values[k] }
					s, rerr := rancher.Resolve(inv, "dev", getenv)
					verr := inv.Validate(inventory.RequireCredentials(getenv), inventory.RequireRancher(getenv))
					anonymous := rerr == nil && s.AccessKey == "" && s.SecretKey == ""
					if (rerr == nil && !anonymous) != (verr == nil) {
						t.Errorf("rancher %q, credentials %q, set %v: Resolve: %v; validate: %v", u, c, values, rerr, verr)
					}
					if anonymous && verr == nil {
						t.Errorf("rancher %q, set %v: no keys at all, and validate --require-credentials accepts it", u, values)
					}
				}
			}
		}
	}
}
