package rancher

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/drover-dev/drover/internal/pemfile"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNormalizeURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, project string
		wantErr           bool
	}{
		{in: "https://rancher.example.com", want: "https://rancher.example.com/v2-beta"},
		{in: "https://rancher.example.com/", want: "https://rancher.example.com/v2-beta"},
		{in: "http://10.0.0.1:8080/v1", want: "http://10.0.0.1:8080/v2-beta"},
		{in: "http://10.0.0.1:8080/v1/", want: "http://10.0.0.1:8080/v2-beta"},
		{in: "https://r.example.com/v2-beta", want: "https://r.example.com/v2-beta"},
		{in: "https://r.example.com/v2-beta/projects/1a5/schemas", want: "https://r.example.com/v2-beta", project: "1a5"},
		{in: "https://r.example.com/v1/projects/1a7", want: "https://r.example.com/v2-beta", project: "1a7"},
		{in: "https://r.example.com/rancher/v2-beta/schemas", want: "https://r.example.com/rancher/v2-beta"},
		{in: "  https://r.example.com/v2-beta?x=1  ", want: "https://r.example.com/v2-beta"},
		{in: "ftp://r.example.com", wantErr: true},
		{in: "r.example.com:8080", wantErr: true},
		{in: "https://", wantErr: true},
		{in: "https://ak:sk@r.example.com", wantErr: true},
		{in: "https://ak:sk@r.example.com/%zz", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.in, "", "")
			if tc.wantErr {
				if err == nil {
					t.Fatalf("New(%q) = %v, want error", tc.in, c.BaseURL())
				}
				if strings.Contains(err.Error(), "sk@") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.BaseURL() != tc.want || c.DefaultProject() != tc.project {
				t.Errorf("New(%q) = %q project %q, want %q project %q", tc.in, c.BaseURL(), c.DefaultProject(), tc.want, tc.project)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	bigPEM := filepath.Join(dir, "big.pem") // over pemfile.MaxBytes: refused unread
	if err := os.WriteFile(bigPEM, make([]byte, pemfile.MaxBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		ak, sk    string
		opts      []Option
		wantErrIn string
	}{
		{name: "defaults", ak: "a", sk: "s"},
		{name: "no keys", ak: "", sk: ""},
		{name: "access key only", ak: "a", wantErrIn: "together"},
		{name: "secret only", sk: "s", wantErrIn: "together"},
		{name: "nil http client", opts: []Option{WithHTTPClient(nil)}, wantErrIn: "nil client"},
		{name: "http client with timeout", opts: []Option{WithHTTPClient(&http.Client{Timeout: time.Second})}, wantErrIn: "Timeout"},
		{name: "http client", opts: []Option{WithHTTPClient(&http.Client{})}},
		{name: "nil logger", opts: []Option{WithLogger(nil)}, wantErrIn: "nil logger"},
		{name: "poll too small", opts: []Option{WithPollInterval(time.Millisecond)}, wantErrIn: "below 10ms"},
		{name: "poll", opts: []Option{WithPollInterval(time.Second)}},
		{name: "request timeout zero", opts: []Option{WithRequestTimeout(0)}, wantErrIn: "not positive"},
		{name: "empty CA path", opts: []Option{WithCAFile("")}, wantErrIn: "empty path"},
		{name: "missing CA", opts: []Option{WithCAFile(filepath.Join(dir, "nope.pem"))}, wantErrIn: "CA file: stat"},
		{name: "CA too big", opts: []Option{WithCAFile(bigPEM)}, wantErrIn: "CA file: " + bigPEM + " is larger than 1 MiB"},
		{name: "CA not PEM", opts: []Option{WithCAFile(notPEM)}, wantErrIn: "no PEM certificate"},
		{name: "CA with client", opts: []Option{WithCAFile(notPEM), WithHTTPClient(&http.Client{})}, wantErrIn: "cannot be combined"},
		{name: "events off", opts: []Option{WithEventStream(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New("https://r.example.com", tc.ak, tc.sk, tc.opts...)
			if tc.wantErrIn == "" && err != nil {
				t.Fatalf("New: %v", err)
			}
			if tc.wantErrIn != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErrIn)) {
				t.Fatalf("New error = %v, want one containing %q", err, tc.wantErrIn)
			}
		})
	}
}

// TestSecretNeverShown runs requests with a debug logger and checks that
// neither the secret nor the Authorization header appears anywhere.
func TestSecretNeverShown(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.std("api")
	var logs bytes.Buffer
	c := f.client(t, WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if _, err := c.ServiceByPath(t.Context(), "1a5", "web/api"); err != nil {
		t.Fatal(err)
	}
	bad, _ := New(f.srv.URL, f.access, "wrong-secret")
	_, err := bad.Discover(t.Context())
	if !IsAuth(err) {
		t.Fatalf("Discover with a wrong secret: %v, want ErrAuth", err)
	}
	auth := c.auth[len("Basic "):]
	for _, s := range []string{logs.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), err.Error()} {
		for _, secret := range []string{f.secret, "wrong-secret", auth, "Authorization"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows %q", s, secret)
			}
		}
	}
	if !strings.Contains(logs.String(), "rancher request") {
		t.Error("debug logger got no request log")
	}
}

func TestDiscoverAndAuth(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c := f.client(t)
	s, err := c.Discover(t.Context())
	if err != nil || s != f.srv.URL+"/v2-beta/schemas" {
		t.Fatalf("Discover = %q, %v", s, err)
	}
	if f.numBadAuth() != 0 {
		t.Errorf("%d requests without the right Basic auth", f.badAuth)
	}
	anon, _ := New(f.srv.URL, "", "")
	_, err = anon.Projects(t.Context())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "Unauthorized" || !IsAuth(err) {
		t.Errorf("anonymous request: %v", err)
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.std()
	var want []string
	for i := range 250 {
		id := fmt.Sprintf("1s%d", 100+i)
		f.addService(id, fmt.Sprintf("svc%03d", i), "1st1", "active")
		want = append(want, id)
	}
	c := f.client(t)
	got, err := c.Services(t.Context(), "1a5")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("got %d services %v..., want %d", len(ids), ids[:min(3, len(ids))], len(want))
	}
	var pages []string
	for _, r := range f.requests() {
		if strings.HasPrefix(r, "GET /v2-beta/projects/1a5/services") {
			pages = append(pages, r)
		}
	}
	if len(pages) != 3 || !strings.Contains(pages[1], "marker=m100") || !strings.Contains(pages[2], "marker=m200") {
		t.Errorf("page requests = %v, want 3 following next (markers m100, m200)", pages)
	}
	if f.numBadAuth() != 0 {
		t.Error("a next link on another host got the request without auth: it was not re-rooted")
	}
}

// TestListBounded: a listing reads at most its limit over all its pages
// (each page alone was bounded, their total was not: 10000 pages of 64 MiB
// each). A collection over it is an error naming the collection, after
// the page that crossed it; under it, every page is read.
func TestListBounded(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.std()
	for i := range 250 {
		f.addService(fmt.Sprintf("1s%d", 100+i), fmt.Sprintf("svc%03d", i), "1st1", "active")
	}
	pages := func() int {
		n := 0
		for _, r := range f.requests() {
			if strings.HasPrefix(r, "GET /v2-beta/projects/1a5/services") {
				n++
			}
		}
		return n
	}
	c := f.client(t)
	if _, err := c.Services(t.Context(), "1a5"); err != nil {
		t.Fatal(err)
	}
	whole := pages()
	c.listLimit = 64 << 10 // about one of the three pages
	_, err := c.Services(t.Context(), "1a5")
	if !errors.Is(err, errTooLarge) || !strings.Contains(err.Error(), "list services") || !strings.Contains(err.Error(), "65536 bytes in all") {
		t.Fatalf("Services over the limit: %v, want errTooLarge naming services and the limit", err)
	}
	if len(err.Error()) > 300 {
		t.Errorf("error of %d bytes: %.300s...", len(err.Error()), err)
	}
	if n := pages() - whole; n == 0 || n >= whole {
		t.Errorf("%d pages read over the limit, want it to stop before the last of %d", n, whole)
	}
	c.listLimit = maxListBytes
	if got, err := c.Services(t.Context(), "1a5"); err != nil || len(got) != 250 {
		t.Errorf("Services under the limit: %d, %v", len(got), err)
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.std("api", "worker")
	f.addService("1s9", "api", "1st2", "active") // same name, other stack
	f.add(`{"id":"1h1","type":"host","name":null,"hostname":"h1","state":"active","agentState":null,"agentIpAddress":"10.0.0.1","accountId":"1a5","labels":{"zone":"a"}}`)
	f.add(`{"id":"1h2","type":"host","hostname":"h2","state":"disconnected","agentState":"disconnected","accountId":"1a5","labels":{}}`)
	c := f.client(t)
	ctx := t.Context()

	for _, in := range []string{"1a5", "dev"} {
		p, err := c.Project(ctx, in)
		if err != nil || p.ID != "1a5" || p.Name != "dev" {
			t.Errorf("Project(%q) = %+v, %v", in, p, err)
		}
	}
	if _, err := c.Project(ctx, "1a99"); !IsNotFound(err) {
		t.Errorf("Project(1a99): %v, want not found", err)
	}
	if _, err := c.Project(ctx, "staging"); !IsNotFound(err) {
		t.Errorf("Project(staging): %v, want not found", err)
	}

	svc, err := c.ServiceByPath(ctx, "1a5", "web/api")
	if err != nil || svc.ID != "1s1" || svc.StackID != "1st1" {
		t.Fatalf("ServiceByPath(web/api) = %+v, %v", svc, err)
	}
	if svc, err := c.ServiceByPath(ctx, "1a5", "other/api"); err != nil || svc.ID != "1s9" {
		t.Errorf("ServiceByPath(other/api) = %v, %v", svc, err)
	}
	for _, path := range []string{"web/nope", "nope/api"} {
		if _, err := c.ServiceByPath(ctx, "1a5", path); !IsNotFound(err) {
			t.Errorf("ServiceByPath(%s): %v, want not found", path, err)
		}
	}
	for _, path := range []string{"api", "/api", "web/", "a/b/c"} {
		if _, err := c.ServiceByPath(ctx, "1a5", path); err == nil || IsNotFound(err) {
			t.Errorf("ServiceByPath(%q): %v, want a usage error", path, err)
		}
	}
	hosts, err := c.Hosts(ctx, "1a5")
	if err != nil || len(hosts) != 2 || !hosts[0].Active() || hosts[1].Active() || hosts[0].Labels["zone"] != "a" {
		t.Errorf("Hosts = %+v, %v", hosts, err)
	}
	ins, err := c.Instances(ctx, svc)
	if err != nil || len(ins) != 2 || ins[0].ID != "1i1" || ins[0].HostID != "1h1" {
		t.Errorf("Instances = %+v, %v", ins, err)
	}
	if !slices.Contains(f.requests(), "GET /linked/instances/1s1") {
		t.Error("Instances did not follow links.instances")
	}
	ss, err := c.Stacks(ctx, "1a5")
	if err != nil || len(ss) != 2 {
		t.Errorf("Stacks = %v, %v", ss, err)
	}
}

func TestTLSVerified(t *testing.T) {
	t.Parallel()
	f := newFakeTLS(t, true)
	f.std("api")
	f.set("1s1", map[string]any{"state": "upgrading", "transitioning": "yes"}, false)
	ctx := t.Context()

	plain, err := New(f.srv.URL, f.access, f.secret)
	if err != nil {
		t.Fatal(err)
	}
	var uerr *tls.CertificateVerificationError
	if _, err := plain.Discover(ctx); !errors.As(err, &uerr) {
		t.Fatalf("self-signed server without WithCAFile: %v, want a verification error", err)
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(f.srv.URL, f.access, f.secret, WithCAFile(ca), WithPollInterval(time.Hour), fastStream)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Discover(ctx); err != nil {
		t.Fatalf("with the CA file: %v", err)
	}
	// The websocket (wss) goes through the same verified transport.
	svc := &Service{Resource: Resource{ID: "1s1", Type: "service", AccountID: "1a5"}}
	res := startWait(ctx, c, svc, StateIs(StateUpgraded))
	eventually(t, "wss subscribed", func() bool { return f.numSubs() == 1 && f.gets("1s1") >= 2 })
	f.set("1s1", map[string]any{"state": "upgraded", "transitioning": "no"}, true)
	if r := <-res; r.err != nil || r.svc.State != StateUpgraded {
		t.Fatalf("WaitFor over wss = %+v, %v", r.svc, r.err)
	}
}
