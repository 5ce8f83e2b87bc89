package dockersim_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/dockersim/dockertest"
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
