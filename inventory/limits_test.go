package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// allocated runs f and returns the bytes it allocated. The tests using it
// are not parallel, so nothing else allocates meanwhile.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLoadHugeNamesBoundedMemory: a file under the size cap with a 1 MiB
// environment name and region key (repeated in every path below them)
// loads in bounded memory, and its errors are short.
func TestLoadHugeNamesBoundedMemory(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nregistries:\n  source: {address: a.example.com}\n  regions:\n    ? %s\n    : {address: b.example.com, credentials: {usernameEnv: U, passwordEnv: P}}\n", huge)
	fmt.Fprintf(&b, "environments:\n  - name: %s\n    region: %s\n    hosts:\n", huge, "eu")
	for i := range 300 {
		fmt.Fprintf(&b, "      - {name: h%d, docker: 'unix:///s%d', labels: {a: b}}\n", i, i)
	}
	doc := b.String()
	if len(doc) > MaxFileBytes {
		t.Fatalf("test document is %d bytes, over the cap", len(doc))
	}
	var err error
	n := allocated(func() {
		var inv *Inventory
		if inv, err = Load(strings.NewReader(doc), "huge.yaml"); err == nil {
			err = inv.Validate()
		}
	})
	if err == nil {
		t.Fatal("want an error")
	}
	if n > 64<<20 {
		t.Errorf("loading allocated %d MiB, want at most 64", n>>20)
	}
	for _, want := range []string{"key \"xxxx", "is 1048576 bytes long: at most 253"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%.500s", want, err)
		}
	}
	if len(err.Error()) > 8<<10 {
		t.Errorf("error is %d bytes long; echoed values should be clipped", len(err.Error()))
	}
}

// TestReadLockBounded: a lock reader fails fast, in bounded memory and
// naming the file, on a file far larger than any lock (--lock /dev/zero,
// or a 256 MiB file).
func TestReadLockBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.lock.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(256 << 20); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()
	paths := []string{big}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths = append(paths, "/dev/zero")
	}
	for _, path := range paths {
		var err error
		done := make(chan struct{})
		var n uint64
		go func() {
			defer close(done)
			n = allocated(func() { _, err = ReadLock(path) })
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second): // a guard, not a wait: it returns in milliseconds
			t.Fatalf("ReadLock(%s) did not return", path)
		}
		want := path + " is larger than 16 MiB; is this the right file?"
		if path != big {
			want = path + " is not a regular file" // refused before it is opened
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadLock(%s) = %v, want %q", path, err, want)
		}
		// Reading to the 16 MiB cap grows a buffer by doubling: about 64 MiB
		// allocated in all, whatever the file's size.
		if n > 96<<20 {
			t.Errorf("ReadLock(%s) allocated %d MiB, want at most 96", path, n>>20)
		}
	}
}

// TestReadReleaseTooLarge: a release over MaxFileBytes is refused after
// reading at most that much.
func TestReadReleaseTooLarge(t *testing.T) {
	t.Parallel()
	_, err := ReadRelease(zeros{}, "release.yaml")
	if err == nil || err.Error() != "release.yaml is larger than 4 MiB; is this the right file?" {
		t.Errorf("ReadRelease(endless) = %v", err)
	}
}

// TestMessagesClipValues: values echoed in messages are clipped.
func TestMessagesClipValues(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("A", 100_000)
	rel := "version: 1\nimages:\n  - {name: " + long + ", ref: 'x/" + long + "'}\nservices:\n  - {service: " + long + ", image: " + long + "x}\n"
	_, err := ReadRelease(strings.NewReader(rel), "release.yaml")
	if err == nil || len(err.Error()) > 2000 {
		t.Errorf("release error is %d bytes: %.300v", len(fmt.Sprint(err)), err)
	}
	dir := t.TempDir()
	lock := filepath.Join(dir, "lock.json")
	if err := os.WriteFile(lock, []byte(`{"version": 1, "`+long+`": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLock(lock); err == nil || len(err.Error()) > 600 {
		t.Errorf("lock error is %d bytes: %.300v", len(fmt.Sprint(err)), err)
	}
	if err := os.WriteFile(lock, []byte(`{"version": 1, "images": [{"name": "`+long+`", "repository": "`+long+`"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLock(lock); err == nil || len(err.Error()) > 600 {
		t.Errorf("lock error is %d bytes: %.300v", len(fmt.Sprint(err)), err)
	}
}

// TestPastedKeyNeverEchoed: a Rancher key pasted alone where a variable
// name belongs is a valid name in shell syntax (20 hex digits, or 40
// letters and digits), and was echoed: "$A29007EA4B1C0D3F2E11 is not set".
// It is now refused without being shown, by Validate and the resolvers;
// names of the usual shapes are still names (reported unset by name).
func TestPastedKeyNeverEchoed(t *testing.T) {
	t.Parallel()
	getenv := func(string) string { return "" }
	for _, key := range []string{"A29007EA4B1C0D3F2E11", "Zk3vQ9pLx2mN8rT4yW6aB1cD5eF7gH0jK2lM4nPq", "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ"} {
		env := &Environment{Name: "dev", Region: "eu", Credentials: &Credentials{AccessKeyEnv: key, SecretKeyEnv: "RANCHER_SECRET_KEY"},
			Hosts: []Host{{Name: "h", Docker: "unix:///var/run/docker.sock"}}}
		_, _, err := env.RancherKeys(getenv)
		reg := Registry{Address: "r.example.com", Credentials: &RegistryCredentials{UsernameEnv: "REG_USER", PasswordEnv: key}}
		_, rerr := reg.Auth(getenv)
		inv := &Inventory{Version: 1, Registries: Registries{Source: reg, Regions: map[string]Registry{"eu": {Address: "eu.example.com"}}},
			Environments: []Environment{*env}}
		inv.ApplyDefaults()
		verr := inv.Validate(RequireCredentials(getenv), RequireRancher(getenv))
		for _, tc := range []struct {
			name string
			err  error
			want string
		}{
			{"RancherKeys", err, "the value of accessKeyEnv is not a variable name"},
			{"Auth", rerr, "the value of passwordEnv is not a variable name"},
			{"Validate", verr, "not an environment variable name"},
		} {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("%s of %.8s...: %v, want %q", tc.name, key, tc.err, tc.want)
			}
			if tc.err != nil && strings.Contains(tc.err.Error(), key[:12]) {
				t.Errorf("%s echoes the key: %v", tc.name, tc.err)
			}
		}
	}
	for _, name := range []string{"RANCHER_ACCESS_KEY", "LAB_DEV1_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "DROVER_REGISTRY_PASSWORD_EU_WEST_1", "registryPassword2024", "X"} {
		_, err := Registry{Address: "r.example.com", Credentials: &RegistryCredentials{UsernameEnv: "REG_USER", PasswordEnv: name}}.Auth(
			func(k string) string { return map[string]string{"REG_USER": "u"}[k] })
		if err == nil || !strings.Contains(err.Error(), "$"+name+" is not set") {
			t.Errorf("Auth with passwordEnv %s: %v, want it named as unset", name, err)
		}
	}
}

// TestPastedSecretNeverEchoed: a secret pasted where a variable name
// belongs is never shown, by Validate or by the resolvers.
func TestPastedSecretNeverEchoed(t *testing.T) {
	t.Parallel()
	const secret = "A29007EA4B1C0D3F2E11:sk-9f8e7d6c5b4a"
	getenv := func(string) string { return "" }
	env := &Environment{Name: "dev", Credentials: &Credentials{AccessKeyEnv: secret, SecretKeyEnv: "OK_NAME"}}
	_, _, err := env.RancherKeys(getenv)
	reg := Registry{Address: "r.example.com", Credentials: &RegistryCredentials{UsernameEnv: "USER", PasswordEnv: secret}}
	_, rerr := reg.Auth(getenv)
	inv := &Inventory{Version: 1, Registries: Registries{Source: reg, Regions: map[string]Registry{"eu": {Address: "eu.example.com"}}},
		Environments: []Environment{{Name: "dev", Region: "eu", Credentials: env.Credentials,
			Hosts: []Host{{Name: "h", Docker: "unix:///var/run/docker.sock"}}}}}
	inv.ApplyDefaults()
	verr := inv.Validate(RequireCredentials(getenv), RequireRancher(getenv))
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"RancherKeys", err, "the value of accessKeyEnv is not a variable name"},
		{"Auth", rerr, "the value of passwordEnv is not a variable name"},
		{"Validate", verr, "not an environment variable name"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, tc.err, tc.want)
		}
		if tc.err != nil && (strings.Contains(tc.err.Error(), secret[:8]) || strings.Contains(tc.err.Error(), "sk-9f")) {
			t.Errorf("%s echoes the secret: %v", tc.name, tc.err)
		}
	}
}
