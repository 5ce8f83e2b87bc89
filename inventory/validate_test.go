package inventory

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/internal/pemfile"
)

// writeCerts writes a throwaway self-signed certificate and key as
// ca.pem, cert.pem and key.pem in dir.
func writeCerts(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "drover-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	for name, b := range map[string][]byte{
		"ca.pem": certPEM, "cert.pem": certPEM,
		"key.pem":      pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		"notpem.pem":   []byte("not a certificate\n"),
		"config.json":  []byte("{}\n"),
		"bad-key.pem":  []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"),
		"also-ca.pem":  certPEM,
		"other-ca.pem": certPEM,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

const optionsInventory = `version: 1
registries:
  source: {address: "127.0.0.1:5000", credentials: {usernameEnv: SRC_USER, passwordEnv: SRC_PASS}}
  regions:
    eu: {address: "127.0.0.1:5001", credentials: {dockerConfig: DOCKERCONFIG}}
rancher: {url: "http://127.0.0.1:8080", caCert: RANCHERCA, insecure: true}
defaults:
  credentials: {accessKeyEnv: R_ACCESS, secretKeyEnv: R_SECRET}
  tls: {ca: CA, cert: CERT, key: KEY}
environments:
  - name: a
    region: eu
    hosts: [{name: a1, docker: "tcp://10.0.0.1:2376"}, {name: a2, docker: "tcp://10.0.0.2:2376"}]
  - name: b
    region: eu
    credentials: {accessKeyEnv: B_ACCESS, secretKeyEnv: R_SECRET}
    discover: {from: rancher, docker: "tcp://{{.AgentIP}}:2376"}
`

func TestValidateOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeCerts(t, dir)
	p := func(name string) string { return filepath.Join(dir, name) }
	good := strings.NewReplacer("DOCKERCONFIG", p("config.json"), "RANCHERCA", p("ca.pem"), "CA", p("ca.pem"), "CERT", p("cert.pem"), "KEY", p("key.pem"))
	bigPEM := p("big.pem") // over pemfile.MaxBytes: refused unread
	if err := os.WriteFile(bigPEM, bytes.Repeat([]byte("#"), pemfile.MaxBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := strings.NewReplacer("DOCKERCONFIG", p("config.json"), "RANCHERCA", bigPEM, "CA", bigPEM, "CERT", bigPEM, "KEY", p("key.pem"))
	bad := strings.NewReplacer("DOCKERCONFIG", p("nope.json"), "RANCHERCA", p("notpem.pem"), "CA", p("missing.pem"), "CERT", p("cert.pem"), "KEY", p("bad-key.pem"))
	env := func(vars ...string) func(string) string {
		return func(k string) string {
			for _, v := range vars {
				if v == k {
					return "value-of-" + k
				}
			}
			return ""
		}
	}
	all := env("SRC_USER", "SRC_PASS", "R_ACCESS", "R_SECRET", "B_ACCESS")
	tests := []struct {
		name string
		repl *strings.Replacer
		opts []ValidateOption
		want []string // messages after "x.yaml:LINE: "
	}{
		{"no options ignore files and values", bad, nil, nil},
		{"files ok", good, []ValidateOption{CheckFiles(true)}, nil},
		{"files bad", bad, []ValidateOption{CheckFiles(true)}, []string{
			"5: registries.regions.eu.credentials.dockerConfig: stat " + p("nope.json") + ": no such file or directory",
			"6: rancher.caCert: " + p("notpem.pem") + ": no PEM certificate in it",
			"9: defaults.tls.ca: stat " + p("missing.pem") + ": no such file or directory",
			"9: defaults.tls.cert: load " + p("cert.pem") + " and " + p("bad-key.pem") + ": tls: failed to parse private key",
		}},
		{"files too big", huge, []ValidateOption{CheckFiles(true)}, []string{
			"6: rancher.caCert: " + bigPEM + " is larger than 1 MiB, the most a PEM file may hold: is this the right file?",
			"9: defaults.tls.ca: " + bigPEM + " is larger than 1 MiB, the most a PEM file may hold: is this the right file?",
			"9: defaults.tls.cert: load " + bigPEM + " and " + p("key.pem") + ": " + bigPEM + " is larger than 1 MiB, the most a PEM file may hold: is this the right file?",
		}},
		{"credentials all set", good, []ValidateOption{RequireCredentials(all), RequireRancher(all)}, nil},
		{"credentials unset, each reported once", good, []ValidateOption{RequireCredentials(env("SRC_USER"))}, []string{
			"3: registries.source.credentials.passwordEnv: $SRC_PASS is not set",
			"8: defaults.credentials.accessKeyEnv: $R_ACCESS is not set",
			"8: defaults.credentials.secretKeyEnv: $R_SECRET is not set",
			"16: environments[b].credentials.accessKeyEnv: $B_ACCESS is not set",
		}},
		{"rancher keys only", good, []ValidateOption{RequireRancher(env("R_ACCESS", "R_SECRET"))}, []string{
			"16: environments[b].credentials.accessKeyEnv: $B_ACCESS is not set",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv, err := Load(strings.NewReader(tt.repl.Replace(optionsInventory)), "x.yaml")
			if err != nil {
				t.Fatal(err)
			}
			err = inv.Validate(tt.opts...)
			var got []string
			for _, fe := range FieldErrors(err) {
				got = append(got, strings.TrimPrefix(fe.Error(), "x.yaml:"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err != nil && strings.Contains(err.Error(), "value-of-") {
				t.Errorf("a credential value leaked into the error: %v", err)
			}
		})
	}
}

func TestValidateRequireRancherNeedsURLAndCredentials(t *testing.T) {
	t.Parallel()
	inv := mustLoad(t, "good-minimal.yaml")
	err := inv.Validate(RequireRancher(func(string) string { return "" }))
	want := "good-minimal.yaml:2: rancher.url: required: this command talks to Rancher: set it here or export $RANCHER_URL\n" +
		"good-minimal.yaml:8: environments[dev].credentials: required to talk to Rancher: set accessKeyEnv and secretKeyEnv here or in defaults.credentials, or export $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	for _, opt := range []ValidateOption{RequireCredentials(nil), RequireRancher(nil)} {
		if err := inv.Validate(opt); err == nil || FieldErrors(err) != nil {
			t.Errorf("nil getenv: got %v, want an option error", err)
		}
	}
}

func TestTLSClientConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeCerts(t, dir)
	no := false
	tests := []struct {
		name       string
		tls        TLS
		wantErr    bool
		certs      int
		skipVerify bool
	}{
		{"ca only", TLS{CA: filepath.Join(dir, "ca.pem")}, false, 0, false},
		{"client cert", TLS{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}, false, 1, false},
		{"verify false", TLS{CA: filepath.Join(dir, "ca.pem"), Verify: &no}, false, 0, true},
		{"missing ca", TLS{CA: filepath.Join(dir, "nope.pem")}, true, 0, false},
		{"bad key", TLS{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "bad-key.pem")}, true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := tt.tls.ClientConfig()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(cfg.Certificates) != tt.certs || cfg.InsecureSkipVerify != tt.skipVerify || (tt.tls.CA != "" && cfg.RootCAs == nil) {
				t.Errorf("config: certs=%d skip=%v roots=%v", len(cfg.Certificates), cfg.InsecureSkipVerify, cfg.RootCAs != nil)
			}
		})
	}
}
