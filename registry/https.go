package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// errPlainHTTP is the answer to a plain-HTTP request meant for a registry
// that the inventory does not mark insecure.
var errPlainHTTP = errors.New("plain HTTP refused: the registry is not marked insecure")

// httpsOnly is the transport of a registry not marked insecure: it sends
// HTTPS requests on and refuses every plain-HTTP one (go-containerregistry
// falls back to http:// for loopback and private addresses when TLS fails,
// and the credentials would go with it). It remembers the last TLS failure
// so the error can say what went wrong over HTTPS.
type httpsOnly struct {
	next http.RoundTripper

	mu     sync.Mutex
	tlsErr error
}

func (t *httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%s %s://%s%s: %w", req.Method, req.URL.Scheme, req.URL.Host, req.URL.Path, errPlainHTTP)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		if terr := tlsFailure(err); terr != nil {
			t.mu.Lock()
			t.tlsErr = terr
			t.mu.Unlock()
		}
	}
	return resp, err
}

// reset forgets the last TLS failure (nil-safe).
func (t *httpsOnly) reset() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.tlsErr = nil
	t.mu.Unlock()
}

// tlsFailure returns the last TLS failure seen (nil-safe).
func (t *httpsOnly) tlsFailure() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tlsErr
}

// tlsFailure returns err when it is a TLS failure that retrying cannot fix:
// an unverifiable certificate, a TLS alert, or a server that answers in plain
// HTTP (then http.ErrSchemeMismatch).
func tlsFailure(err error) error {
	var (
		cve   *tls.CertificateVerificationError
		alert tls.AlertError
		rhe   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &rhe):
		if string(rhe.RecordHeader[:]) == "HTTP/" {
			return http.ErrSchemeMismatch
		}
		return err
	case errors.As(err, &cve), errors.As(err, &alert):
		return err
	}
	return nil
}
