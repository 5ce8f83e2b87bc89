package netem

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// blobServer serves size bytes on every path, with Content-Length.
func blobServer(t *testing.T, size int) (*Faults, *httptest.Server) {
	t.Helper()
	f := NewFaults()
	body := strings.Repeat("x", size)
	srv := httptest.NewServer(f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
	})))
	t.Cleanup(srv.Close)
	return f, srv
}

func get(t *testing.T, ctx context.Context, url string) (status int, header http.Header, body string, err error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("User-Agent", "drover-lab-host/h1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

func TestFailNth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		arm        func(f *Faults)
		paths      []string
		want       []int
		retryAfter string
	}{
		{"429 on the 2nd request", func(f *Faults) { f.FailNth(2, 429) },
			[]string{"/v2/", "/v2/a/blobs/sha256:1", "/v2/"}, []int{200, 429, 200}, "1"},
		{"500 on the 1st", func(f *Faults) { f.FailNth(0, 500) },
			[]string{"/v2/", "/v2/"}, []int{500, 200}, ""},
		{"503 on the 2nd blob only", func(f *Faults) { f.FailNthOf(ClassBlobs, "GET", 2, 503) },
			[]string{"/v2/a/blobs/sha256:1", "/v2/a/manifests/1", "/v2/a/blobs/sha256:2", "/v2/a/blobs/sha256:3"},
			[]int{200, 200, 503, 200}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := blobServer(t, 10)
			tt.arm(f)
			for i, p := range tt.paths {
				status, h, body, err := get(t, t.Context(), srv.URL+p)
				if err != nil {
					t.Fatal(err)
				}
				if status != tt.want[i] {
					t.Errorf("request %d (%s) = %d, want %d", i+1, p, status, tt.want[i])
				}
				if status >= 400 {
					if got := h.Get("Retry-After"); got != tt.retryAfter {
						t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
					}
					if !strings.Contains(body, `"errors"`) {
						t.Errorf("error body = %q", body)
					}
				}
			}
			if got := f.Stats().Faults; got != 1 {
				t.Errorf("Faults = %d, want 1", got)
			}
		})
	}
}

func TestResetMidBody(t *testing.T) {
	t.Parallel()
	f, srv := blobServer(t, 1<<20)
	f.ResetMidBody(2)
	for i, wantErr := range []bool{false, true, false} {
		_, _, body, err := get(t, t.Context(), srv.URL+"/v2/a/blobs/sha256:1")
		if (err != nil) != wantErr {
			t.Fatalf("blob GET %d: err = %v, wantErr %v", i+1, err, wantErr)
		}
		if wantErr && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want unexpected EOF", err)
		}
		if wantErr && len(body) >= 1<<20 {
			t.Errorf("cut body has %d bytes", len(body))
		}
	}
	// The handler logs a request once it returns, which may be after the
	// client has read the whole body: wait for it (CI saw 2 entries).
	if err := f.Idle(t.Context()); err != nil {
		t.Fatal(err)
	}
	log := f.Log()
	if len(log) != 3 || log[1].Fault != "reset" || log[1].BytesOut != 1<<19 {
		t.Errorf("log = %+v", log)
	}
}

func TestHang(t *testing.T) {
	t.Parallel()
	f, srv := blobServer(t, 10)
	f.Hang(true)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, _, _, err := get(t, ctx, srv.URL+"/v2/"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung request err = %v, want deadline exceeded", err)
	}
	f.Hang(false)
	if status, _, _, err := get(t, t.Context(), srv.URL+"/v2/"); err != nil || status != 200 {
		t.Errorf("after Hang(false): %d, %v", status, err)
	}
}

func TestDownRefusesConnections(t *testing.T) {
	t.Parallel()
	f := NewFaults()
	ln, err := f.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	url := "http://" + ln.Addr().String() + "/v2/"
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	do := func() error {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := do(); err != nil {
		t.Fatalf("up: %v", err)
	}
	f.Down(true)
	// The kept-alive connection is cut; a new one is refused.
	for range 2 {
		if err := do(); err == nil {
			t.Fatalf("down: request succeeded")
		}
	}
	if err := do(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("down: err = %v, want connection refused", err)
	}
	f.Down(false)
	if err := do(); err != nil {
		t.Errorf("up again: %v", err)
	}
}

func TestStatsAndLog(t *testing.T) {
	t.Parallel()
	f, srv := blobServer(t, 100)
	for _, p := range []string{"/v2/a/blobs/sha256:1", "/v2/a/blobs/sha256:2", "/v2/a/manifests/1.0"} {
		if _, _, _, err := get(t, t.Context(), srv.URL+p); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, srv.URL+"/v2/a/blobs/uploads/u1", strings.NewReader("hello"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if err := f.Idle(t.Context()); err != nil { // a request is counted once its handler returns
		t.Fatal(err)
	}
	s := f.Stats()
	if got := s.Get("GET", ClassBlobs); got != (Counter{Requests: 2, BytesOut: 200}) {
		t.Errorf("GET blobs = %+v", got)
	}
	if got := s.Get("", ClassManifests); got.Requests != 1 || got.BytesOut != 100 {
		t.Errorf("manifests = %+v", got)
	}
	if got := s.Get("PUT", ClassUploads); got.BytesIn != 5 {
		t.Errorf("PUT uploads = %+v", got)
	}
	if s.Total.Requests != 4 || s.Total.BytesOut != 400 || s.Total.BytesIn != 5 {
		t.Errorf("total = %+v", s.Total)
	}
	log := f.Log()
	if len(log) != 4 {
		t.Fatalf("log has %d entries", len(log))
	}
	if e := log[0]; e.UserAgent != "drover-lab-host/h1" || e.Repo != "a" || e.Ref != "sha256:1" || e.Status != 200 || e.RemoteAddr == "" {
		t.Errorf("entry = %+v", e)
	}
	f.ResetStats()
	if s := f.Stats(); s.Total.Requests != 0 || len(f.Log()) != 0 {
		t.Errorf("after ResetStats: %+v", s)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path            string
		class           Class
		repo, reference string
	}{
		{"/v2/", ClassBase, "", ""},
		{"/v2/team/app/manifests/1.0", ClassManifests, "team/app", "1.0"},
		{"/v2/app/blobs/sha256:ab", ClassBlobs, "app", "sha256:ab"},
		{"/v2/app/blobs/uploads/", ClassUploads, "app", ""},
		{"/v2/app/blobs/uploads/abc-123", ClassUploads, "app", ""},
		{"/v2/app/tags/list", ClassTags, "app", ""},
		{"/v2/_catalog", ClassOther, "", ""},
		{"/healthz", ClassOther, "", ""},
	}
	for _, tt := range tests {
		c, repo, ref := Classify(tt.path)
		if c != tt.class || repo != tt.repo || ref != tt.reference {
			t.Errorf("Classify(%q) = %q %q %q", tt.path, c, repo, ref)
		}
	}
}

func TestIdle(t *testing.T) {
	t.Parallel()
	f := NewFaults()
	release := make(chan struct{})
	srv := httptest.NewServer(f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })))
	defer srv.Close()
	if err := f.Idle(t.Context()); err != nil {
		t.Fatalf("Idle with nothing in flight: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, _, err := get(t, context.Background(), srv.URL+"/v2/")
		done <- err
	}()
	// Wait until the request is in the handler (Idle would block).
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		err := f.Idle(ctx)
		cancel()
		if err != nil {
			break
		}
	}
	close(release)
	if err := f.Idle(t.Context()); err != nil {
		t.Fatalf("Idle: %v", err)
	}
	if n := len(f.Log()); n != 1 {
		t.Errorf("after Idle the log has %d entries, want 1", n)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}
