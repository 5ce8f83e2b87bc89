package dockersim_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/dockersim/dockertest"
	"github.com/drover-dev/drover/internal/lab/registries"
)

// TestPullRefusesAnotherOS: a single-platform image of another OS (a linux
// image onto a Windows host) fails the pull as dockerd fails it; the
// simulated host used to store it, so prewarm status reported a linux
// image "present" on a Windows host. A linux host still pulls it.
func TestPullRefusesAnotherOS(t *testing.T) {
	t.Parallel()
	reg := dockertest.StartRegistry(t, false)
	reg.Push(t, "app:1", dockertest.RandomImage(t, 16<<10, 2)) // linux/amd64
	for _, tc := range []struct {
		name string
		opts []dockersim.Option
		want string
	}{
		{"windows host", []dockersim.Option{dockersim.WithPlatform("windows/amd64"), dockersim.WithOSVersion("10.0.17763")},
			`error: image operating system "linux" cannot be used on this platform`},
		{"linux host", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, cli := startHost(t, tc.opts...)
			out := pullStream(t, cli, reg.Ref("app:1"))
			i := slices.IndexFunc(out, func(s string) bool { return strings.HasPrefix(s, "error: ") })
			switch {
			case tc.want == "" && i >= 0:
				t.Fatalf("pull: %q, want no error", out[i])
			case tc.want != "" && (i < 0 || out[i] != tc.want):
				t.Fatalf("pull stream %q, want %q", out, tc.want)
			}
			_, err := cli.ImageInspect(t.Context(), reg.Ref("app:1"))
			if (err == nil) != (tc.want == "") {
				t.Errorf("inspect after pull: %v; want the image only on the linux host", err)
			}
		})
	}
}

// TestForeignURLsOnlyOnWindows: a foreign layer the registry lacks is
// fetched from its URL by a Windows host only; a Linux host fails the pull,
// as dockerd on Linux never follows urls (moby pull_v2_unix.go). The
// simulated Linux host used to follow them.
func TestForeignURLsOnlyOnWindows(t *testing.T) {
	t.Parallel()
	reg, err := registries.Start(t.Context(), registries.WithImpl(registries.GGCR)) // distribution leaves a goroutine goleak reports
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	seeded, err := registries.Seed(t.Context(), reg.Addr(), registries.SeedSpec{Foreign: "win:1", Size: 32 << 10, Layers: 2,
		WindowsBuilds: []string{"10.0.17763.6054"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Addr() + "/win@" + seeded[0].Digest
	for _, tc := range []struct {
		name    string
		opts    []dockersim.Option
		wantErr bool
	}{
		{"windows host", []dockersim.Option{dockersim.WithPlatform("windows/amd64"), dockersim.WithOSVersion("10.0.17763")}, false},
		{"linux host", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, _ := startHost(t, tc.opts...)
			err := h.EnsureImage(t.Context(), ref, false)
			if (err != nil) != tc.wantErr {
				t.Fatalf("pull %s: %v, want error %v", ref, err, tc.wantErr)
			}
		})
	}
}
