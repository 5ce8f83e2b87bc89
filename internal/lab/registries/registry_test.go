package registries

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/drover-dev/drover/internal/lab/netem"
)

func start(t *testing.T, opts ...Option) *Registry {
	t.Helper()
	r, err := Start(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

var impls = []Impl{Distribution, GGCR}

func TestStartOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Option
	}{
		{"unknown impl", WithImpl(Impl(7))},
		{"negative link", WithLink(netem.Link{BytesPerSec: -1})},
		{"empty dir", WithDir("")},
		{"empty password", WithBasicAuth("u", "")},
		{"bad addr", WithAddr("nope")},
		{"nil logger", WithLogger(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if r, err := Start(t.Context(), tt.opt); err == nil {
				r.Close()
				t.Errorf("Start accepted %s", tt.name)
			}
		})
	}
}

func TestCloseReleasesPort(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.String(), func(t *testing.T) {
			t.Parallel()
			r, err := Start(t.Context(), WithImpl(impl))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, r.URL()+"/v2/", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("/v2/ = %d", resp.StatusCode)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			// The port is free again: we can listen on it.
			var lc net.ListenConfig
			ln, err := lc.Listen(t.Context(), "tcp", r.Addr())
			if err != nil {
				t.Fatalf("port still held: %v", err)
			}
			ln.Close()
		})
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.String(), func(t *testing.T) {
			t.Parallel()
			r := start(t, WithImpl(impl), WithBasicAuth("lab", "s3cret"))
			spec := SeedSpec{Images: []string{"app:1.0"}, Size: 8 << 10, Layers: 2}

			_, err := Seed(t.Context(), r.Addr(), spec)
			var terr *transport.Error
			if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
				t.Fatalf("anonymous seed: err = %v, want 401", err)
			}
			spec.Username, spec.Password = "lab", "wrong"
			if _, err := Seed(t.Context(), r.Addr(), spec); !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password: err = %v, want 401", err)
			}
			spec.Password = "s3cret"
			if _, err := Seed(t.Context(), r.Addr(), spec); err != nil {
				t.Fatalf("seed with credentials: %v", err)
			}
		})
	}
}

func TestFaultsReachClients(t *testing.T) {
	t.Parallel()
	r := start(t)
	seeded, err := Seed(t.Context(), r.Addr(), SeedSpec{Images: []string{"app:1.0"}, Size: 256 << 10, Layers: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.Faults().ResetMidBody(1)
	ref, _ := name.NewDigest(r.Addr()+"/app@"+seeded[0].Layers[0], name.Insecure)
	layer, err := remote.Layer(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(rc)
	rc.Close()
	if err == nil {
		t.Errorf("blob read survived a mid-body reset")
	}
	// The handler records its entry after the client has seen the cut.
	if err := r.Faults().Idle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.Stats().Faults; got != 1 {
		t.Errorf("Faults = %d, want 1", got)
	}

	r.Faults().Down(true)
	if _, err := remote.Head(ref.Context().Tag("1.0"), remote.WithContext(t.Context())); err == nil {
		t.Errorf("HEAD succeeded on a down registry")
	}
	r.Faults().Down(false)
	if _, err := remote.Head(ref.Context().Tag("1.0"), remote.WithContext(t.Context())); err != nil {
		t.Errorf("HEAD after Down(false): %v", err)
	}
}

// TestLinkShapesDownloads checks a lower bound only: a shaped registry can
// never serve faster than its link (an upper bound would depend on load).
func TestLinkShapesDownloads(t *testing.T) {
	t.Parallel()
	r := start(t)
	seeded, err := Seed(t.Context(), r.Addr(), SeedSpec{Images: []string{"app:1.0"}, Size: 512 << 10, Layers: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.SetLink(netem.Link{BytesPerSec: 2 << 20, Latency: 100 * time.Millisecond})
	url := r.URL() + "/v2/app/blobs/" + seeded[0].Layers[0]
	start := time.Now()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != seeded[0].Size {
		t.Fatalf("read %d of %d bytes: %v", n, seeded[0].Size, err)
	}
	// 100ms latency + 512 KiB at 2 MiB/s, less one 40 KiB chunk of slack.
	if d, floor := time.Since(start), 100*time.Millisecond+230*time.Millisecond; d < floor {
		t.Errorf("shaped download took %v, less than the link allows (%v)", d, floor)
	}
}
