package dockersim

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/registry"
)

// Manifest media types the host accepts, in dockerd 20.10's order.
const (
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

var manifestAccept = strings.Join([]string{mtDockerManifest, mtDockerList, mtOCIManifest, mtOCIIndex}, ", ")

// registryError is a registry's error answer (the distribution spec's
// {"errors":[{"code","message"}]}), formatted like docker's errcode.Error.
type registryError struct {
	status  int
	code    string
	message string
}

func (e *registryError) Error() string {
	desc := strings.ToLower(strings.ReplaceAll(e.code, "_", " "))
	if desc == "" {
		desc = strings.ToLower(http.StatusText(e.status))
	}
	if e.message == "" {
		return desc
	}
	return desc + ": " + e.message
}

func readRegistryError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var env struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	e := &registryError{status: resp.StatusCode}
	if json.Unmarshal(body, &env) == nil && len(env.Errors) > 0 {
		e.code, e.message = env.Errors[0].Code, env.Errors[0].Message
	} else if resp.StatusCode == http.StatusUnauthorized {
		e.code, e.message = "UNAUTHORIZED", "authentication required"
	}
	return e
}

// regClient talks to one registry for one pull. It authenticates like
// dockerd: ping /v2/, then Basic credentials or a Bearer token for the
// repository's pull scope, from the X-Registry-Auth of the request.
type regClient struct {
	host   string
	scheme string
	hc     *http.Client
	auth   registry.AuthConfig
	count  func(n int64)

	mu        sync.Mutex
	challenge string            // "basic", "bearer" or "" (none)
	params    map[string]string // bearer challenge parameters
	tokens    map[string]string // bearer tokens by scope
}

func newRegClient(host string, hc *http.Client, auth registry.AuthConfig, count func(int64)) *regClient {
	scheme := "https"
	if isLoopback(host) {
		scheme = "http"
	}
	return &regClient{host: host, scheme: scheme, hc: hc, auth: auth, count: count, tokens: map[string]string{}}
}

func isLoopback(hostport string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = hostport
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// decodeAuth decodes an X-Registry-Auth header (base64url JSON AuthConfig).
// A malformed header means no credentials, as in dockerd.
func decodeAuth(h string) registry.AuthConfig {
	var a registry.AuthConfig
	if h == "" {
		return a
	}
	raw, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(h); err != nil {
			return registry.AuthConfig{}
		}
	}
	if json.Unmarshal(raw, &a) != nil {
		return registry.AuthConfig{}
	}
	if a.Username == "" && a.Auth != "" {
		if dec, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
			a.Username, a.Password, _ = strings.Cut(string(dec), ":")
		}
	}
	return a
}

func (c *regClient) url(path string) string { return c.scheme + "://" + c.host + path }

// ping probes /v2/ and records the auth challenge.
func (c *regClient) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/v2/"), nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized:
		scheme, params := parseChallenge(resp.Header.Get("WWW-Authenticate"))
		c.mu.Lock()
		c.challenge, c.params = scheme, params
		c.mu.Unlock()
		return nil
	default:
		return fmt.Errorf("Get %q: unexpected status %s", c.url("/v2/"), resp.Status) //nolint:staticcheck // ST1005: dockerd's own wording (Go's url.Error)
	}
}

func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for _, kv := range splitParams(rest) {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return strings.ToLower(scheme), params
}

// splitParams splits on commas outside quotes.
func splitParams(s string) []string {
	var out []string
	inQ, start := false, 0
	for i, r := range s {
		switch {
		case r == '"':
			inQ = !inQ
		case r == ',' && !inQ:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func (c *regClient) authorize(ctx context.Context, req *http.Request, repo string) error {
	c.mu.Lock()
	challenge, params := c.challenge, c.params
	c.mu.Unlock()
	switch challenge {
	case "basic":
		if c.auth.Username == "" && c.auth.Password == "" {
			return fmt.Errorf("%s %q: no basic auth credentials", methodName(req.Method), req.URL.String())
		}
		req.SetBasicAuth(c.auth.Username, c.auth.Password)
	case "bearer":
		tok, err := c.token(ctx, params, "repository:"+repo+":pull")
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if c.auth.RegistryToken != "" && challenge == "" {
		req.Header.Set("Authorization", "Bearer "+c.auth.RegistryToken)
	}
	return nil
}

func methodName(m string) string {
	return m[:1] + strings.ToLower(m[1:])
}

func (c *regClient) token(ctx context.Context, params map[string]string, scope string) (string, error) {
	c.mu.Lock()
	tok, ok := c.tokens[scope]
	c.mu.Unlock()
	if ok {
		return tok, nil
	}
	if c.auth.RegistryToken != "" {
		return c.auth.RegistryToken, nil
	}
	realm := params["realm"]
	if realm == "" {
		return "", errors.New("bearer challenge without realm")
	}
	u, err := url.Parse(realm)
	if err != nil {
		return "", fmt.Errorf("bearer realm %q: %w", realm, err)
	}
	q := u.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	q.Set("scope", scope)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	if c.auth.Username != "" || c.auth.Password != "" {
		req.SetBasicAuth(c.auth.Username, c.auth.Password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", readRegistryError(resp)
	}
	var tr struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return "", fmt.Errorf("token from %s: %w", u.Host, err)
	}
	tok = cmpOr(tr.Token, tr.AccessToken)
	c.mu.Lock()
	c.tokens[scope] = tok
	c.mu.Unlock()
	return tok, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// do sends an authorised request for repo; non-2xx answers become
// *registryError (a HEAD carries no body, so only the status is known).
func (c *regClient) do(ctx context.Context, method, path, repo, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if err := c.authorize(ctx, req, repo); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readRegistryError(resp)
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, count: c.count}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	count func(int64)
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 && b.count != nil {
		b.count(int64(n))
	}
	return n, err
}

// fetchedManifest is a manifest or index with its digest.
type fetchedManifest struct {
	digest    string
	mediaType string
	body      []byte
}

// headManifest resolves ref (a tag) to a digest without fetching the body.
func (c *regClient) headManifest(ctx context.Context, repo, ref string) (digest string, err error) {
	resp, err := c.do(ctx, http.MethodHead, "/v2/"+repo+"/manifests/"+ref, repo, manifestAccept)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// getManifest fetches a manifest by tag or digest and verifies the digest
// when ref is one.
func (c *regClient) getManifest(ctx context.Context, repo, ref string) (fetchedManifest, error) {
	resp, err := c.do(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, repo, manifestAccept)
	if err != nil {
		return fetchedManifest{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fetchedManifest{}, err
	}
	sum := sha256.Sum256(body)
	got := "sha256:" + hex.EncodeToString(sum[:])
	if strings.HasPrefix(ref, "sha256:") && got != ref {
		return fetchedManifest{}, fmt.Errorf("manifest verification failed for digest %s", ref)
	}
	mt := resp.Header.Get("Content-Type")
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.MediaType != "" {
		mt = probe.MediaType
	}
	return fetchedManifest{digest: got, mediaType: mt, body: body}, nil
}

// openBlob starts a blob download.
func (c *regClient) openBlob(ctx context.Context, repo, digest string) (io.ReadCloser, error) {
	resp, err := c.do(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+digest, repo, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
