package lease_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/drover-dev/drover/rancher/lease"
)

// TestListPaginationStaysOnBase: the store follows pagination.next onto
// the project URL's scheme and host, never to the host a server's answer
// names (it sent the keys there, in clear if that link said http://), and
// stops a pagination that never ends after a few pages.
func TestListPaginationStaysOnBase(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Method+" "+r.URL.String()+" auth="+fmt.Sprint(r.Header.Get("Authorization") != ""))
		mu.Unlock()
		http.Error(w, "not here", http.StatusTeapot)
	}))
	t.Cleanup(other.Close)
	var pages int
	endless := false
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _, ok := r.BasicAuth(); !ok || u != keys.Access {
			t.Errorf("%s %s without the keys", r.Method, r.URL)
		}
		mu.Lock()
		pages++
		n, endless := pages, endless
		mu.Unlock()
		next := "null"
		if r.URL.Query().Get("marker") == "" || endless {
			next = fmt.Sprintf("%q", other.URL+r.URL.Path+fmt.Sprintf("?kind=droverLease&key=dev&marker=m%d", n))
		}
		fmt.Fprintf(w, `{"data":[{"id":"1go%d","kind":"droverLease","key":"dev","state":"active","resourceData":{}}],"pagination":{"next":%s}}`, n, next)
	}))
	t.Cleanup(srv.Close)
	store, err := lease.NewHTTPStore(srv.Client(), srv.URL+"/v2-beta/projects/1a5", keys.Access, keys.Secret)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := store.List(t.Context(), "droverLease", "dev")
	if err != nil || len(objs) != 2 || objs[1].ID != "1go2" {
		t.Fatalf("List = %+v, %v; want the two pages' objects", objs, err)
	}
	mu.Lock()
	endless = true
	mu.Unlock()
	_, err = store.List(t.Context(), "droverLease", "dev")
	if err == nil || !strings.Contains(err.Error(), "pages") {
		t.Errorf("List of an endless pagination: %v, want an error after a few pages", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) > 0 {
		t.Errorf("requests went to the host pagination.next named: %q", elsewhere)
	}
	if pages > 2+16 {
		t.Errorf("%d pages read, want the endless listing stopped at 16", pages-2)
	}
}

// TestErrorsShort: what an error echoes from the server (a lease holder's
// fields, any Rancher user's to write; an error body of up to 16 MiB) is
// clipped, and its control characters are spaces (a terminal escape in
// who would be obeyed); it was echoed whole, as sent.
func TestErrorsShort(t *testing.T) {
	t.Parallel()
	long := "\x1b]0;pwned\a\n" + strings.Repeat("x", 1<<20)
	for _, err := range []error{
		&lease.HeldError{Env: "dev", Holder: lease.Holder{Info: lease.Info{Who: long, Where: long, Command: long}, ID: long}},
		&lease.APIError{Method: "GET", URL: "https://r/v2-beta/projects/1a5/genericobjects", Status: 500, Code: "ServerError", Message: long},
	} {
		if msg := err.Error(); len(msg) > 2048 || !strings.Contains(msg, "xxx...") || strings.ContainsAny(msg, "\x1b\a\n") {
			t.Errorf("%T: Error() is %d bytes: %.200q...", err, len(msg), msg)
		}
	}
}
