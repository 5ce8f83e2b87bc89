package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/drover-dev/drover/inventory"
)

func TestQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/etc/drover/hosts.yaml": "/etc/drover/hosts.yaml",
		"my hosts.yaml":          "'my hosts.yaml'",
		"it's.yaml":              `'it'\''s.yaml'`,
		"":                       "''",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// CheckLock names each image with both references and prints the command
// that locks the release again: with --lock when one was given, and with
// --relock when the source moved (mirror refuses that otherwise).
func TestCheckLock(t *testing.T) {
	t.Parallel()
	const digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	rel := &inventory.Release{Version: 1, File: "rel/release.yaml", Images: []inventory.ReleaseImage{{Name: "app", Ref: "build:5000/app:1.0"}}}
	lock := &inventory.Lock{Version: 1, Source: "build:5000", Images: []inventory.LockImage{
		{Name: "app", Ref: "build:5000/app:1.1", Repository: "app", Tag: "1.1", Digest: digest}}}
	inv := &inventory.Inventory{}
	inv.Registries.Source.Address = "build:5000"
	env := &Env{ConfigFlag: "/etc/drover/my hosts.yaml"}

	err := CheckLock(env, inv, rel, lock, "rel/release.lock.json", "")
	var ee *ExitError
	want := "rel/release.lock.json does not match rel/release.yaml: image app: the release has build:5000/app:1.0, the lock has build:5000/app:1.1; " +
		"lock the release again with `prewarm mirror -c '/etc/drover/my hosts.yaml' -f rel/release.yaml`"
	if !errors.As(err, &ee) || ee.Code != ExitUsage || err.Error() != want {
		t.Errorf("CheckLock =\n%v, want exit 2 and\n%s", err, want)
	}

	inv.Registries.Source.Address = "build2:5000"
	rel.Images[0].Ref = "build:5000/app:1.1"
	err = CheckLock(env, inv, rel, lock, "other.lock.json", "other.lock.json")
	if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.HasSuffix(err.Error(), "--lock other.lock.json --relock`") {
		t.Errorf("CheckLock with the source moved = %v, want exit 2 and a mirror command with --lock and --relock", err)
	}
	if err := CheckLock(env, inv, rel, &inventory.Lock{Images: lock.Images}, "x", ""); err != nil {
		t.Errorf("CheckLock of a matching lock = %v", err)
	}
}
