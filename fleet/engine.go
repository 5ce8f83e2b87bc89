package fleet

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"runtime"

	"github.com/moby/moby/client"
)

// Engine is the part of the Docker Engine API prewarm uses; *client.Client
// (github.com/moby/moby/client) implements it.
type Engine interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImagePull(ctx context.Context, ref string, opts client.ImagePullOptions) (client.ImagePullResponse, error)
	ImageTag(ctx context.Context, opts client.ImageTagOptions) (client.ImageTagResult, error)
	ImageList(ctx context.Context, opts client.ImageListOptions) (client.ImageListResult, error)
	ImageRemove(ctx context.Context, image string, opts client.ImageRemoveOptions) (client.ImageRemoveResult, error)
	ContainerList(ctx context.Context, opts client.ContainerListOptions) (client.ContainerListResult, error)
	Info(ctx context.Context, opts client.InfoOptions) (client.SystemInfoResult, error)
	Close() error
}

// DialFunc connects to a host's Engine API.
type DialFunc func(ctx context.Context, host Target) (Engine, error)

var _ Engine = (*client.Client)(nil)

// Dial connects to host.Docker with the moby client (API version
// negotiated on first use). A tcp:// endpoint with TLS settings uses them;
// server verification is on unless the inventory sets verify: false. An
// npipe:// endpoint is dialled only on Windows (ErrNpipeNotWindows). A
// host reached through Rancher (host.Rancher) is dialled through it.
func Dial(_ context.Context, host Target) (Engine, error) {
	if host.Rancher != nil {
		return dialViaRancher(host)
	}
	if err := checkNpipe(host.Docker, runtime.GOOS); err != nil {
		return nil, fmt.Errorf("docker %s on %s: %w", host.Docker, host.Name, err)
	}
	opts := []client.Opt{}
	if t := host.TLS; t != nil {
		if t.Verify != nil && !*t.Verify {
			hc, err := insecureHTTPClient(t.Cert, t.Key)
			if err != nil {
				return nil, fmt.Errorf("docker %s on %s: %w", host.Docker, host.Name, err)
			}
			opts = append(opts, client.WithHTTPClient(hc))
		} else {
			opts = append(opts, client.WithTLSClientConfig(t.CA, t.Cert, t.Key))
		}
	}
	opts = append(opts, client.WithHost(host.Docker))
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker %s on %s: %w", host.Docker, host.Name, err)
	}
	return c, nil
}

// insecureHTTPClient presents a client certificate without verifying the
// server: only when the inventory says verify: false for this host.
func insecureHTTPClient(certFile, keyFile string) (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // opt-in per host: tls.verify: false
	if certFile != "" || keyFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}
