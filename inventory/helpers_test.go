package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRancherKeys(t *testing.T) {
	t.Parallel()
	e := &Environment{Name: "dmz-eu", Credentials: &Credentials{AccessKeyEnv: "A", SecretKeyEnv: "S"}}
	tests := []struct {
		name    string
		env     *Environment
		vars    map[string]string
		access  string
		wantErr string
	}{
		{"both set", e, map[string]string{"A": "ak", "S": "sk"}, "ak", ""},
		{"secret unset", e, map[string]string{"A": "ak"}, "", "environment dmz-eu: $S is not set"},
		{"access unset", e, map[string]string{"S": "sk"}, "", "environment dmz-eu: $A is not set"},
		{"no credentials", &Environment{Name: "dev"}, nil, "", "environment dev: no Rancher credentials configured (credentials.accessKeyEnv, secretKeyEnv)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			access, secret, err := tt.env.RancherKeys(func(k string) string { return tt.vars[k] })
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				if access != "" || secret != "" {
					t.Error("keys returned with an error")
				}
				return
			}
			if err != nil || access != tt.access || secret != "sk" {
				t.Errorf("got %q %q %v", access, secret, err)
			}
		})
	}
}

func TestRegistryAuth(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"U": "robot", "P": "s3cr3t-pw"}
	getenv := func(k string) string { return vars[k] }
	r := &Registry{Address: "registry.eu.example.com", Credentials: &RegistryCredentials{UsernameEnv: "U", PasswordEnv: "P"}}
	a, err := r.Auth(getenv)
	if err != nil || a == nil || a.Username != "robot" || a.Password != "s3cr3t-pw" {
		t.Fatalf("Auth = %v, %v", a, err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("auth", "auth", *a)
	j, _ := json.Marshal(struct{ S string }{fmt.Sprint(a)})
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %s %#v", *a, *a, *a, *a), logs.String(), string(j)} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("password printed: %s", s)
		}
		if !strings.Contains(s, "robot") && !strings.Contains(s, "REDACTED") {
			t.Errorf("unexpected rendering: %s", s)
		}
	}
	none, err := (&Registry{Address: "x"}).Auth(getenv)
	if none != nil || err != nil {
		t.Errorf("no credentials: %v %v", none, err)
	}
	docker, err := (&Registry{Credentials: &RegistryCredentials{DockerConfig: "/c.json"}}).Auth(getenv)
	if docker != nil || err != nil {
		t.Errorf("docker config only: %v %v", docker, err)
	}
	r.Credentials.PasswordEnv = "MISSING"
	if _, err := r.Auth(getenv); err == nil || err.Error() != "registry registry.eu.example.com: $MISSING is not set" {
		t.Errorf("unset password: %v", err)
	}
}

func TestDiscoverEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl, ip, host string
		labels         map[string]string
		want, wantErr  string
	}{
		{"tcp://{{.AgentIP}}:2376", "10.1.2.3", "h1", nil, "tcp://10.1.2.3:2376", ""},
		{`tcp://{{.Hostname}}.eu.example.com:{{index .Labels "docker-port"}}`, "10.1.2.3", "h1", map[string]string{"docker-port": "2377"}, "tcp://h1.eu.example.com:2377", ""},
		{"tcp://{{.AgentIP}}:{{.Labels.port}}", "10.1.2.3", "h2", nil, "", `docker endpoint for host h2: template: docker:1:28: executing "docker" at <.Labels.port>: map has no entry for key "port"`},
		{"tcp://{{.AgentIP}}", "10.1.2.3", "h3", nil, "", `docker endpoint for host h3: "tcp://10.1.2.3": want tcp://host:port`},
		{"tcp://{{.AgentIP", "", "h4", nil, "", "bad template: template: docker:1: unclosed action"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			d := &Discover{From: "rancher", Docker: tt.tmpl}
			got, err := d.Endpoint(tt.ip, tt.host, tt.labels)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Endpoint = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	inv, err := LoadFile("../hosts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "RANCHER_ACCESS_KEY" {
			return "AKIA-do-not-print"
		}
		return ""
	}
	var y, j bytes.Buffer
	if err := Describe(&y, inv, getenv, false); err != nil {
		t.Fatal(err)
	}
	if err := Describe(&j, inv, getenv, true); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{y.String(), j.String()} {
		if strings.Contains(out, "do-not-print") {
			t.Fatalf("a credential value was printed:\n%s", out)
		}
	}
	for _, want := range []string{
		"#   RANCHER_ACCESS_KEY       set    defaults.credentials.accessKeyEnv\n",
		"#   RANCHER_QA_SECRET_KEY    unset  environments[qa].credentials.secretKeyEnv\n",
		"#   BUILD_REGISTRY_PASSWORD  unset  registries.source.credentials.passwordEnv\n",
		"    project: qa\n", // merged default, shown
	} {
		if !strings.Contains(y.String(), want) {
			t.Errorf("YAML output lacks %q:\n%s", want, y.String())
		}
	}
	// The YAML output is itself a valid inventory, equal to the input.
	back, err := Load(strings.NewReader(y.String()), inv.File)
	if err != nil {
		t.Fatalf("describe output does not load: %v", err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("describe output does not validate: %v", err)
	}
	var d Description
	if err := json.Unmarshal(j.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Inventory == nil || len(d.Inventory.Environments) != 6 || len(d.EnvVars) != 6 || d.EnvVars[2].Name != "RANCHER_ACCESS_KEY" || !d.EnvVars[2].Set {
		t.Errorf("JSON description: %+v", d)
	}
}

func TestRedactedURL(t *testing.T) {
	t.Parallel()
	inv := &Inventory{Rancher: Rancher{URL: "https://admin:hunter2@rancher.example.com/v2"}}
	r := inv.Redacted()
	if strings.Contains(r.Rancher.URL, "hunter2") || !strings.Contains(r.Rancher.URL, "rancher.example.com") {
		t.Errorf("Redacted URL = %s", r.Rancher.URL)
	}
	if inv.Rancher.URL != "https://admin:hunter2@rancher.example.com/v2" {
		t.Error("Redacted changed the original")
	}
}

// FuzzLoad: no input makes Load or Validate panic, and what loads
// re-marshals into something that loads again.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(hostsDir, "*.yaml"))
	seeds = append(seeds, "../hosts.yaml")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("version: 1\na: &a [*a, *a]\n"))
	f.Add([]byte("version: 1\nenvironments: [{name: x, hosts: [{docker: 'tcp://[::1]:1'}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Load(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			if len(FieldErrors(err)) == 0 {
				t.Fatalf("error is not a FieldError: %v", err)
			}
			return
		}
		_ = inv.Validate()
		_ = inv.EnvsByWave()
		var out bytes.Buffer
		if err := Describe(&out, inv, func(string) string { return "" }, false); err != nil {
			t.Fatalf("Describe: %v", err)
		}
		// What loads, prints as an inventory that loads to the same thing.
		back, err := Load(&out, "fuzz.yaml")
		if err != nil {
			t.Fatalf("Describe output does not load: %v\n%s", err, out.String())
		}
		want := inv.Redacted()
		want.pos, back.pos = nil, nil
		if !reflect.DeepEqual(want, back) {
			t.Fatalf("round trip changed the inventory:\n%+v\n%+v", want, back)
		}
	})
}
