package registry

import (
	"bufio"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drover-dev/drover/inventory"
)

// authRegistry is go-containerregistry's registry behind Basic auth on
// 127.0.0.1 (a loopback address, which go-containerregistry treats as
// HTTP-capable). It records every connection that did not open with a TLS
// handshake and every request that carried credentials.
type authRegistry struct {
	srv *httptest.Server

	mu        sync.Mutex
	plaintext []string // first line of each connection that was not TLS
	authSeen  int      // requests that reached the handler with an Authorization header
}

const (
	testUser = "ci"
	testPass = "s3cret-password"
)

func startAuthRegistry(t *testing.T, useTLS bool) *authRegistry {
	t.Helper()
	a := &authRegistry{}
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			a.mu.Lock()
			a.authSeen++
			a.mu.Unlock()
		}
		if u, p, ok := r.BasicAuth(); !ok || u != testUser || p != testPass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	a.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	a.srv.Listener = &sniffListener{Listener: a.srv.Listener, a: a}
	if useTLS {
		a.srv.StartTLS()
	} else {
		a.srv.Start()
	}
	t.Cleanup(a.srv.Close)
	return a
}

func (a *authRegistry) addr() string {
	return strings.TrimPrefix(strings.TrimPrefix(a.srv.URL, "https://"), "http://")
}

func (a *authRegistry) seen() (plaintext []string, auth int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.plaintext...), a.authSeen
}

// push writes a random image as app:1.0 with a client that trusts the
// server's certificate.
func (a *authRegistry) push(t *testing.T) {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(a.addr() + "/app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: testUser, Password: testPass}),
		remote.WithTransport(a.srv.Client().Transport), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push: %v", err)
	}
	a.mu.Lock()
	a.plaintext, a.authSeen = nil, 0
	a.mu.Unlock()
}

// sniffListener sits under the TLS listener and looks at the first bytes of
// each connection: a TLS handshake record starts with 0x16.
type sniffListener struct {
	net.Listener
	a *authRegistry
}

func (l *sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, r: bufio.NewReader(c), a: l.a}, nil
}

type sniffConn struct {
	net.Conn
	r    *bufio.Reader
	once sync.Once
	a    *authRegistry
}

func (c *sniffConn) Read(p []byte) (int, error) {
	c.once.Do(func() {
		first, err := c.r.Peek(1)
		if err != nil || first[0] == 0x16 {
			return
		}
		line, _ := c.r.Peek(c.r.Buffered())
		c.a.mu.Lock()
		c.a.plaintext = append(c.a.plaintext, strings.SplitN(string(line), "\r\n", 2)[0])
		c.a.mu.Unlock()
	})
	return c.r.Read(p)
}

// TestRegistryNeverPlainHTTP: a registry not marked insecure is spoken to
// over HTTPS only, even on a loopback address, and a TLS failure is an error
// that names the registry and the insecure setting; credentials never cross
// in clear.
func TestRegistryNeverPlainHTTP(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		return map[string]string{"REG_USER": testUser, "REG_PASS": testPass}[k]
	}
	creds := &inventory.RegistryCredentials{UsernameEnv: "REG_USER", PasswordEnv: "REG_PASS"}
	rel := &inventory.Release{Version: 1, Images: []inventory.ReleaseImage{{Name: "app", Ref: "app:1.0"}}}
	tests := []struct {
		name     string
		tls      bool // the registry serves TLS (with a certificate the client does not trust)
		insecure bool
		trusted  bool // the client trusts the certificate
		wantErr  bool
		wantAuth bool // credentials reach the registry (always over TLS here)
	}{
		{name: "untrusted certificate", tls: true, wantErr: true},
		{name: "plain HTTP registry", tls: false, wantErr: true},
		{name: "trusted certificate", tls: true, trusted: true, wantAuth: true},
		{name: "untrusted certificate, insecure", tls: true, insecure: true, wantAuth: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := startAuthRegistry(t, tc.tls)
			if tc.tls {
				a.push(t)
			}
			opts := []Option{WithGetenv(getenv), WithRetry(3, 0, 0), (&sleepLog{}).option()}
			if tc.trusted {
				opts = append(opts, WithTransport(a.srv.Client().Transport))
			}
			src := inventory.Registry{Address: a.addr(), Insecure: tc.insecure, Credentials: creds}
			lock, err := Resolve(t.Context(), src, rel, opts...)
			plaintext, auth := a.seen()
			if len(plaintext) > 0 && !tc.insecure {
				t.Errorf("plain-HTTP connections reached a registry not marked insecure: %q", plaintext)
			}
			if !tc.tls && auth > 0 {
				t.Errorf("%d requests carried credentials over plain HTTP", auth)
			}
			if (auth > 0) != tc.wantAuth {
				t.Errorf("requests with credentials: %d, want any: %v", auth, tc.wantAuth)
			}
			if !tc.wantErr {
				if err != nil || len(lock.Images) != 1 {
					t.Fatalf("resolve: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTLS) {
				t.Fatalf("err = %v, want ErrTLS", err)
			}
			for _, want := range []string{a.addr(), "insecure: true"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), testPass) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}
