package dockertest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Target is a Docker Engine under test.
type Target struct {
	// Endpoint is the Docker host, "tcp://127.0.0.1:port" or
	// "unix:///var/run/docker.sock".
	Endpoint string
	// APIVersion is the API version the engine must announce; "" skips
	// that check.
	APIVersion string
}

// Run runs the suite against target.
func Run(t *testing.T, target Target) {
	t.Run("ping and version", func(t *testing.T) { t.Parallel(); testPing(t, target) })
	t.Run("pull inspect tag list delete", func(t *testing.T) { t.Parallel(); testImageLifecycle(t, target) })
	t.Run("pull errors", func(t *testing.T) { t.Parallel(); testPullErrors(t, target) })
	t.Run("pull fails mid-stream", func(t *testing.T) { t.Parallel(); testMidStream(t, target) })
	t.Run("pull index", func(t *testing.T) { t.Parallel(); testIndex(t, target) })
	t.Run("pull with registry auth", func(t *testing.T) { t.Parallel(); testAuth(t, target) })
}

// NewClient returns a moby client for endpoint with version negotiation;
// t.Cleanup closes it.
func NewClient(t testing.TB, endpoint string) *client.Client {
	t.Helper()
	cli, err := client.New(client.WithHost(endpoint))
	if err != nil {
		t.Fatalf("client for %s: %v", endpoint, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// session is one subtest's client, registry prefix and cleanup list.
type session struct {
	t      *testing.T
	cli    *client.Client
	prefix string // unique repository prefix
}

func newSession(t *testing.T, target Target) *session {
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := &session{t: t, cli: NewClient(t, target.Endpoint), prefix: "conf-" + hex.EncodeToString(b[:])}
	return s
}

// cleanup removes, when the test ends, images matching ref patterns and
// the containers given.
func (s *session) cleanup(containerID string, refs ...string) {
	s.t.Cleanup(func() {
		ctx := context.Background()
		if containerID != "" {
			_, _ = s.cli.ContainerRemove(ctx, containerID, client.ContainerRemoveOptions{Force: true})
		}
		for _, r := range refs {
			_, _ = s.cli.ImageRemove(ctx, r, client.ImageRemoveOptions{Force: true})
		}
	})
}

// pull runs ImagePull and collects the stream. reqErr is the HTTP-level
// error; the stream's errorDetail, if any, is in the last message.
func (s *session) pull(ref string, opts client.ImagePullOptions) (msgs []jsonstream.Message, reqErr error) {
	s.t.Helper()
	ctx := s.t.Context()
	resp, err := s.cli.ImagePull(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			s.t.Fatalf("pull %s: reading stream: %v", ref, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// mustPull pulls and fails the test on any error.
func (s *session) mustPull(ref string) []jsonstream.Message {
	s.t.Helper()
	msgs, err := s.pull(ref, client.ImagePullOptions{})
	if err != nil {
		s.t.Fatalf("pull %s: %v", ref, err)
	}
	for _, m := range msgs {
		if m.Error != nil {
			s.t.Fatalf("pull %s: stream error %q", ref, m.Error.Message)
		}
	}
	return msgs
}

func (s *session) inspect(ref string) image.InspectResponse {
	s.t.Helper()
	res, err := s.cli.ImageInspect(s.t.Context(), ref)
	if err != nil {
		s.t.Fatalf("inspect %s: %v", ref, err)
	}
	return res.InspectResponse
}

func statuses(msgs []jsonstream.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Status)
	}
	return out
}

func testPing(t *testing.T, target Target) {
	s := newSession(t, target)
	ctx := t.Context()
	p, err := s.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	if p.APIVersion == "" || (target.APIVersion != "" && p.APIVersion != target.APIVersion) {
		t.Errorf("ping APIVersion = %q, want %q", p.APIVersion, target.APIVersion)
	}
	if p.OSType != "linux" {
		t.Errorf("ping OSType = %q, want linux", p.OSType)
	}
	if got := s.cli.ClientVersion(); got != p.APIVersion {
		t.Errorf("negotiated client version = %q, want the daemon's %q", got, p.APIVersion)
	}
	v, err := s.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	if v.APIVersion != p.APIVersion || v.Os != "linux" || v.MinAPIVersion == "" || v.Version == "" {
		t.Errorf("version = %+v, want APIVersion %s, Os linux, MinAPIVersion and Version set", v, p.APIVersion)
	}
	info, err := s.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if info.Info.OSType != "linux" || info.Info.Name == "" || info.Info.ServerVersion != v.Version {
		t.Errorf("info OSType=%q Name=%q ServerVersion=%q, want linux, a name, %q", info.Info.OSType, info.Info.Name, info.Info.ServerVersion, v.Version)
	}
	if rc := info.Info.RegistryConfig; rc == nil || !slices.ContainsFunc(rc.InsecureRegistryCIDRs, func(c netip.Prefix) bool { return c.String() == "127.0.0.0/8" }) {
		t.Errorf("info RegistryConfig = %+v, want 127.0.0.0/8 insecure", rc)
	}
}

// layerIDs returns the 12-hex progress IDs of img's layers.
func layerIDs(t *testing.T, img v1.Image) []string {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest.Hex[:12])
	}
	return out
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func configDigest(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func diffIDs(t *testing.T, img v1.Image) []string {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range cf.RootFS.DiffIDs {
		out = append(out, d.String())
	}
	return out
}

func encodeAuth(t *testing.T, user, pass, server string) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"username": user, "password": pass, "serveraddress": server})
	if err != nil {
		t.Fatal(err)
	}
	return base64.URLEncoding.EncodeToString(b)
}

func isConflict(err error) bool { return cerrdefs.IsConflict(err) }
func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

var (
	_ = strings.Contains
	_ = container.Config{}
	_ = ocispec.Platform{}
)

// chainIDs computes layer chain IDs from diff IDs.
func chainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}
