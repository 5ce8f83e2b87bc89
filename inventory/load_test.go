package inventory

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite testdata/hosts/*.err from the current output (then read every diff)")

const hostsDir = "../testdata/hosts"

// loadAndValidate is what the validate command does, minus file and
// credential checks: the first failing stage's error.
func loadAndValidate(t *testing.T, path string) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, err := Load(f, filepath.Base(path))
	if err != nil {
		return err
	}
	return inv.Validate()
}

// TestTestdata runs every testdata/hosts/*.yaml: bad-*.yaml must fail with
// exactly the messages in the .err file next to it (file, line, path, text,
// in file order); good-*.yaml must load and validate.
func TestTestdata(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(hostsDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var bad int
	for _, path := range files {
		name := filepath.Base(path)
		if strings.HasPrefix(name, "bad-") {
			bad++
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := loadAndValidate(t, path)
			golden := strings.TrimSuffix(path, ".yaml") + ".err"
			if strings.HasPrefix(name, "good-") {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want errors, got none")
			}
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("no golden file: %v (run with -update, then review it)", rerr)
			}
			if got != string(want) {
				t.Errorf("errors differ\n got:\n%s\nwant:\n%s", got, want)
			}
			for _, fe := range FieldErrors(err) {
				if fe.File != name || fe.Line < 1 {
					t.Errorf("error without file and line: %#v", fe)
				}
			}
		})
	}
	if bad < 15 {
		t.Errorf("want at least 15 invalid inventories in %s, have %d", hostsDir, bad)
	}
}

// TestExample: the top-level hosts.yaml loads, validates, carries the
// merged defaults, and round-trips (marshal -> load -> equal).
func TestExample(t *testing.T) {
	t.Parallel()
	inv, err := LoadFile("../hosts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Validate(); err != nil {
		t.Fatalf("hosts.yaml does not validate:\n%v", err)
	}
	dev, qa, dmzEU, dmzAP := inv.Env("dev"), inv.Env("qa"), inv.Env("dmz-eu"), inv.Env("dmz-ap")
	if dev == nil || qa == nil || dmzEU == nil || dmzAP == nil {
		t.Fatalf("environments missing: %v", inv.EnvNames())
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"dev interval (own)", dev.Strategy.IntervalMillis, 500},
		{"dev batchSize (defaults)", dev.Strategy.BatchSize, 1},
		{"dev startFirst (defaults)", *dev.Strategy.StartFirst, true},
		{"dev keep (own)", dev.Retention.Keep, 1},
		{"dev project (own)", dev.Project, "Development"},
		{"qa project (its name)", qa.Project, "qa"},
		{"qa credentials (own)", qa.Credentials.AccessKeyEnv, "RANCHER_QA_ACCESS_KEY"},
		{"dmz-eu credentials (defaults)", dmzEU.Credentials.AccessKeyEnv, "RANCHER_ACCESS_KEY"},
		{"dmz-eu batchSize", dmzEU.Strategy.BatchSize, 2},
		{"dmz-eu pull timeout (defaults)", dmzEU.Pull.Timeout.Std(), 30 * time.Minute},
		{"dmz-ap pull timeout (own)", dmzAP.Pull.Timeout.Std(), time.Hour},
		{"unix host gets no tls", dev.Hosts[0].TLS == nil, true},
		{"tcp host tls (defaults)", dev.Hosts[1].TLS.Cert, "/etc/drover/tls/cert.pem"},
		{"discover tls (defaults)", dmzAP.Discover.TLS.CA, "/etc/drover/tls/ca.pem"},
		{"dmz-eu region registry", inv.RegistryFor(dmzEU).Address, "registry.eu.example.com"},
		{"waves", len(inv.EnvsByWave()), 4},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}

	out, err := yaml.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(bytes.NewReader(out), inv.File)
	if err != nil {
		t.Fatalf("reload marshalled inventory: %v\n%s", err, out)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("marshalled inventory does not validate: %v", err)
	}
	inv.pos, back.pos = nil, nil
	if !reflect.DeepEqual(inv, back) {
		t.Errorf("round trip changed the inventory:\nbefore: %+v\nafter:  %+v", inv, back)
	}
}

func TestLoadErrorsAreFieldErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []FieldError
	}{
		{"several at once", "version: 1\nfoo: 1\nrancher: {url: [3], x: 1}\n", []FieldError{
			{File: "x.yaml", Line: 2, Path: "foo", Msg: "unknown key (want one of: version, defaults, registries, rancher, environments, notifications)"},
			{File: "x.yaml", Line: 3, Path: "rancher.url", Msg: "want a string, got a list"},
			{File: "x.yaml", Line: 3, Path: "rancher.x", Msg: "unknown key (want one of: url, caCert, insecure)"},
		}},
		{"bool is not a string", "version: 1\nrancher: {url: true}\n", []FieldError{
			{File: "x.yaml", Line: 2, Path: "rancher.url", Msg: "want a string, got boolean true"},
		}},
		{"version as string", "version: \"1\"\n", []FieldError{
			{File: "x.yaml", Line: 1, Path: "version", Msg: "want the integer 1, got string \"1\""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(strings.NewReader(tt.in), "x.yaml")
			got := FieldErrors(err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i := range got {
				if *got[i] != tt.want[i] {
					t.Errorf("error %d:\n got %#v\nwant %#v", i, *got[i], tt.want[i])
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Error("errors.As(*FieldError) failed")
			}
		})
	}
}

func TestDefaultsMerge(t *testing.T) {
	t.Parallel()
	inv := mustLoad(t, "good-anchors.yaml")
	a, b := inv.Env("a"), inv.Env("b")
	if a.Retention.Keep != 0 || b.Retention.Keep != 0 {
		t.Errorf("explicit defaults keep: 0 lost: a=%d b=%d", a.Retention.Keep, b.Retention.Keep)
	}
	if inv.Defaults.Strategy.IntervalMillis != DefaultIntervalMillis || inv.Defaults.Pull.Timeout.Std() != DefaultPullTimeout {
		t.Errorf("built-in defaults not filled in: %+v", inv.Defaults)
	}
	if a.Strategy.BatchSize != 3 || *a.Strategy.StartFirst || b.Strategy.IntervalMillis != 100 {
		t.Errorf("aliased strategy not applied: a=%+v b=%+v", a.Strategy, b.Strategy)
	}
	if inv.Registries.Regions["us"].Address != "127.0.0.1:5001" {
		t.Errorf("aliased region: %+v", inv.Registries.Regions)
	}
	waves := inv.EnvsByWave()
	if len(waves) != 2 || waves[0][0].Name != "a" || waves[1][0].Name != "b" {
		t.Errorf("EnvsByWave = %v", waves)
	}

	m := mustLoad(t, "good-minimal.yaml")
	d := m.Env("dev")
	want := Environment{
		Name: "dev", Region: "eu", Project: "dev",
		Strategy:    Strategy{BatchSize: 1, IntervalMillis: 2000, StartFirst: ptr(true)},
		Concurrency: 2, Retention: Retention{Keep: 2},
		Pull:  Pull{Timeout: Duration(30 * time.Minute), Concurrency: 4},
		Hosts: []Host{{Name: "local", Docker: "unix:///var/run/docker.sock"}},
	}
	if !reflect.DeepEqual(*d, want) {
		t.Errorf("minimal dev:\n got %+v\nwant %+v", *d, want)
	}
	if m.Env("nope") != nil {
		t.Error("Env(unknown) != nil")
	}
}

func TestApplyDefaultsInGo(t *testing.T) {
	t.Parallel()
	inv := &Inventory{
		Version:      1,
		Defaults:     Defaults{Concurrency: 5, Credentials: &Credentials{AccessKeyEnv: "A", SecretKeyEnv: "S"}, TLS: &TLS{CA: "/ca.pem"}},
		Registries:   Registries{Source: Registry{Address: "127.0.0.1:5000"}, Regions: map[string]Registry{"eu": {Address: "127.0.0.1:5001"}}},
		Environments: []Environment{{Name: "e", Region: "eu", Hosts: []Host{{Name: "h", Docker: "tcp://10.1.1.1:2376"}, {Name: "l", Docker: "unix:///d.sock"}}}},
	}
	inv.ApplyDefaults()
	inv.ApplyDefaults()
	e := inv.Env("e")
	if e.Concurrency != 5 || e.Strategy.BatchSize != 1 || e.Credentials.AccessKeyEnv != "A" || e.Project != "e" {
		t.Errorf("ApplyDefaults: %+v", e)
	}
	if e.Hosts[0].TLS == nil || e.Hosts[0].TLS == inv.Defaults.TLS || e.Hosts[1].TLS != nil {
		t.Errorf("tls merge: tcp=%v unix=%v", e.Hosts[0].TLS, e.Hosts[1].TLS)
	}
	if err := inv.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	inv.Environments[0].Strategy.IntervalMillis = 10
	err := inv.Validate()
	if got, want := err.Error(), "inventory: environments[e].strategy.intervalMillis: must be at least 100 (Rancher's minimum), got 10"; got != want {
		t.Errorf("Validate in Go:\n got %s\nwant %s", got, want)
	}
}

func TestLoadFileResolvesRelativePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "version: 1\nrancher: {url: 'http://127.0.0.1:8080', caCert: ca.pem}\ndefaults:\n  tls: {ca: tls/ca.pem, cert: /abs/cert.pem, key: tls/key.pem}\n"
	path := filepath.Join(dir, "hosts.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Rancher.CACert != filepath.Join(dir, "ca.pem") || inv.Defaults.TLS.CA != filepath.Join(dir, "tls/ca.pem") || inv.Defaults.TLS.Cert != "/abs/cert.pem" {
		t.Errorf("paths not resolved against %s: %+v %+v", dir, inv.Rancher, inv.Defaults.TLS)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile(missing) = %v, want ErrNotExist", err)
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{30 * time.Minute, "30m"}, {time.Hour, "1h"}, {90 * time.Minute, "1h30m"}, {90 * time.Second, "1m30s"}, {1500 * time.Millisecond, "1.5s"}, {0, "0s"}} {
		d := Duration(tt.d)
		if d.String() != tt.want {
			t.Errorf("String(%v) = %q, want %q", tt.d, d.String(), tt.want)
		}
		j, err := d.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := back.UnmarshalJSON(j); err != nil || back != d {
			t.Errorf("JSON round trip of %v: %v %v", tt.d, back, err)
		}
		var y struct{ D Duration }
		if err := yaml.Unmarshal([]byte("d: "+tt.want), &y); err != nil || y.D != d {
			t.Errorf("YAML of %q: %v %v", tt.want, y.D, err)
		}
	}
	var d Duration
	if err := d.UnmarshalJSON([]byte(`"soon"`)); err == nil {
		t.Error("UnmarshalJSON(soon) succeeded")
	}
	if err := yaml.Unmarshal([]byte("d: 5"), &struct{ D *Duration }{&d}); err == nil {
		t.Error("YAML integer duration accepted")
	}
}

func mustLoad(t *testing.T, name string) *Inventory {
	t.Helper()
	f, err := os.Open(filepath.Join(hostsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, err := Load(f, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestLoadLimits(t *testing.T) {
	t.Parallel()
	// 600 environments aliasing one list of 400 hosts: small text, 240,000
	// hosts once expanded. Decoding stops at the node budget.
	var b strings.Builder
	b.WriteString("version: 1\nx: &h [")
	for i := range 400 {
		fmt.Fprintf(&b, "{name: h%d, docker: 'unix:///s%d'},", i, i)
	}
	b.WriteString("]\nenvironments:\n")
	for i := range 600 {
		fmt.Fprintf(&b, "  - {name: e%d, region: eu, hosts: *h}\n", i)
	}
	_, err := Load(strings.NewReader(b.String()), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "document too large (aliases expand past 200000 nodes)") {
		t.Errorf("alias expansion: %.300v", err)
	}
	// An endless reader (--config /dev/zero) fails after MaxFileBytes.
	_, err = Load(zeros{}, "big.yaml")
	if err == nil || err.Error() != "big.yaml is larger than 4 MiB; is this the right file?" {
		t.Errorf("huge file: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}
