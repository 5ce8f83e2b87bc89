package inventory

import (
	"errors"
	"strings"
	"testing"
)

// TestValidateRancherAsResolved: validate accepts what every command's
// resolver (RancherURL, RancherKeyPair; rancher.Resolve) accepts and rejects
// what it rejects. Plain validate checks names only: Rancher's URL and keys
// may come from $RANCHER_URL and $RANCHER_ACCESS_KEY/_SECRET_KEY at run
// time. --require-credentials (rollout: RequireRancher for every
// environment; prewarm: RequireCredentials, for environments that discover
// or reach hosts through Rancher) wants them resolvable now, and keys.
func TestValidateRancherAsResolved(t *testing.T) {
	t.Parallel()
	inv := func(url, creds, hosts string) string {
		y := "version: 1\nregistries:\n  source: {address: src.example.com}\n  regions:\n    eu: {address: eu.example.com}\n"
		if url != "" {
			y += "rancher: {url: \"" + url + "\"}\n"
		}
		y += "environments:\n  - name: dev\n    region: eu\n"
		if creds != "" {
			y += "    credentials: " + creds + "\n"
		}
		return y + "    " + hosts + "\n"
	}
	const (
		fileURL  = "https://r.example.com"
		named    = "{accessKeyEnv: DEV_AK, secretKeyEnv: DEV_SK}"
		listed   = `hosts: [{name: h, docker: "unix:///var/run/docker.sock"}]`
		discover = `discover: {from: rancher, docker: "tcp://{{.AgentIP}}:2376", insecure: true}`
	)
	env := func(vars ...string) func(string) string {
		m := map[string]string{}
		for _, kv := range vars {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		return func(k string) string { return m[k] }
	}
	envURL := "RANCHER_URL=https://env.example.com"
	ak, sk := "RANCHER_ACCESS_KEY=ak-secret-value", "RANCHER_SECRET_KEY=sk-secret-value"
	rollout := func(getenv func(string) string) []ValidateOption {
		return []ValidateOption{RequireCredentials(getenv), RequireRancher(getenv)}
	}
	prewarm := func(getenv func(string) string) []ValidateOption {
		return []ValidateOption{RequireCredentials(getenv)}
	}
	const (
		noURL      = "x.yaml:1: rancher.url: required: this command talks to Rancher: set it here or export $RANCHER_URL"
		noURLDisc  = "x.yaml:1: rancher.url: required: environment dev discovers its hosts in Rancher: set it here or export $RANCHER_URL"
		noKeys     = "x.yaml:7: environments[dev].credentials: required to talk to Rancher: set accessKeyEnv and secretKeyEnv here or in defaults.credentials, or export $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY"
		onlyAccess = "x.yaml:8: environments[dev].credentials: only $RANCHER_ACCESS_KEY is set: set both $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY, or set accessKeyEnv and secretKeyEnv here or in defaults.credentials"
		onlySecret = "x.yaml:8: environments[dev].credentials: only $RANCHER_SECRET_KEY is set: set both $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY, or set accessKeyEnv and secretKeyEnv here or in defaults.credentials"
	)
	tests := []struct {
		name string
		in   string
		opts []ValidateOption
		want []string
	}{
		// Plain: names only, never values.
		{"plain, discover, no url, no keys", inv("", "", discover), nil, nil},
		{"plain, discover, url in file, keys named", inv(fileURL, named, discover), nil, nil},
		{"plain, listed hosts, no url", inv("", "", listed), nil, nil},
		{"plain, http url in file refused", inv("http://r.example.com", "", listed), nil, []string{
			"x.yaml:6: rancher.url: http://r.example.com is plain HTTP, which would send the API keys in clear: use https://, or set rancher.insecure: true to allow it"}},

		// rollout validate --require-credentials: the URL.
		{"rollout, url in file", inv(fileURL, named, listed), rollout(env("DEV_AK=a", "DEV_SK=s")), nil},
		{"rollout, url in $RANCHER_URL", inv("", named, listed), rollout(env(envURL, "DEV_AK=a", "DEV_SK=s")), nil},
		{"rollout, url nowhere", inv("", named, listed), rollout(env("DEV_AK=a", "DEV_SK=s")), []string{noURL}},
		{"rollout, http $RANCHER_URL refused", inv("", named, listed), rollout(env("RANCHER_URL=http://env.example.com", "DEV_AK=a", "DEV_SK=s")), []string{
			"x.yaml:1: rancher.url: $RANCHER_URL: http://env.example.com is plain HTTP, which would send the API keys in clear: use https://, or set rancher.insecure: true to allow it"}},
		{"rollout, bad $RANCHER_URL refused", inv("", named, listed), rollout(env("RANCHER_URL=rancher.example.com", "DEV_AK=a", "DEV_SK=s")), []string{
			"x.yaml:1: rancher.url: $RANCHER_URL: " + checkRancherURL("rancher.example.com").Error()}},

		// rollout validate --require-credentials: the keys.
		{"rollout, keys named and set", inv(fileURL, named, listed), rollout(env("DEV_AK=a", "DEV_SK=s")), nil},
		{"rollout, keys named, one unset", inv(fileURL, named, listed), rollout(env("DEV_AK=a", ak, sk)), []string{
			"x.yaml:10: environments[dev].credentials.secretKeyEnv: $DEV_SK is not set"}},
		{"rollout, conventional keys, both", inv(fileURL, "", listed), rollout(env(ak, sk)), nil},
		{"rollout, conventional keys, access only", inv(fileURL, "", listed), rollout(env(ak)), []string{onlyAccess}},
		{"rollout, conventional keys, secret only", inv(fileURL, "", listed), rollout(env(sk)), []string{onlySecret}},
		{"rollout, no keys", inv(fileURL, "", listed), rollout(env()), []string{strings.Replace(noKeys, ":7:", ":8:", 1)}},
		{"rollout, nothing", inv("", "", listed), rollout(env()), []string{noURL, noKeys}},
		{"rollout, everything from the environment", inv("", "", listed), rollout(env(envURL, ak, sk)), nil},

		// prewarm validate --require-credentials: only environments that
		// reach Rancher need it.
		{"prewarm, listed hosts need no Rancher", inv("", "", listed), prewarm(env()), nil},
		{"prewarm, discover, url nowhere, no keys", inv("", "", discover), prewarm(env()), []string{noURLDisc, noKeys}},
		{"prewarm, discover, everything from the environment", inv("", "", discover), prewarm(env(envURL, ak, sk)), nil},
		{"prewarm, discover, conventional access only", inv(fileURL, "", discover), prewarm(env(ak)), []string{onlyAccess}},
		{"prewarm, discover, named keys unset", inv(fileURL, named, discover), prewarm(env(ak, sk)), []string{
			"x.yaml:10: environments[dev].credentials.accessKeyEnv: $DEV_AK is not set",
			"x.yaml:10: environments[dev].credentials.secretKeyEnv: $DEV_SK is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkFieldErrors(t, tt.in, tt.opts, tt.want)
			i, err := Load(strings.NewReader(tt.in), "x.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if err := i.Validate(tt.opts...); err != nil && strings.Contains(err.Error(), "secret-value") {
				t.Errorf("a key's value in the error: %v", err)
			}
		})
	}
}

// TestRancherURLAndKeyPair: the resolver's rules, which validate checks.
func TestRancherURLAndKeyPair(t *testing.T) {
	t.Parallel()
	getenv := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	inv := &Inventory{File: "hosts.yaml"}
	if _, err := inv.RancherURL(getenv(nil)); !errors.Is(err, ErrNoRancherURL) {
		t.Errorf("no URL: %v, want ErrNoRancherURL", err)
	}
	if u, err := inv.RancherURL(getenv(map[string]string{"RANCHER_URL": "https://env.example.com"})); u != "https://env.example.com" || err != nil {
		t.Errorf("$RANCHER_URL: %q %v", u, err)
	}
	if _, err := inv.RancherURL(getenv(map[string]string{"RANCHER_URL": "http://env.example.com"})); err == nil || !strings.HasPrefix(err.Error(), "$RANCHER_URL: ") {
		t.Errorf("http $RANCHER_URL without rancher.insecure: %v", err)
	}
	inv.Rancher.Insecure = true
	if _, err := inv.RancherURL(getenv(map[string]string{"RANCHER_URL": "http://env.example.com"})); err != nil {
		t.Errorf("http $RANCHER_URL with rancher.insecure: %v", err)
	}
	inv.Rancher.URL = "https://file.example.com"
	if u, _ := inv.RancherURL(getenv(map[string]string{"RANCHER_URL": "https://env.example.com"})); u != "https://file.example.com" {
		t.Errorf("rancher.url does not win over $RANCHER_URL: %q", u)
	}

	e := &Environment{Name: "dev"}
	both := map[string]string{"RANCHER_ACCESS_KEY": "ak", "RANCHER_SECRET_KEY": "sk"}
	if a, s, err := e.RancherKeyPair(getenv(both)); a != "ak" || s != "sk" || err != nil {
		t.Errorf("conventional: %q %q %v", a, s, err)
	}
	if _, _, err := e.RancherKeyPair(getenv(map[string]string{"RANCHER_SECRET_KEY": "sk"})); !errors.Is(err, ErrHalfRancherKeys) {
		t.Errorf("half: %v, want ErrHalfRancherKeys", err)
	}
	if a, s, err := e.RancherKeyPair(getenv(nil)); a != "" || s != "" || err != nil {
		t.Errorf("none (a Rancher without access control): %q %q %v", a, s, err)
	}
	e.Credentials = &Credentials{AccessKeyEnv: "A", SecretKeyEnv: "S"}
	if _, _, err := e.RancherKeyPair(getenv(both)); err == nil || err.Error() != "environment dev: $A is not set" {
		t.Errorf("named wins over the conventional pair: %v", err)
	}
}
