package pemfile

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"at the cap", write("max.pem", bytes.Repeat([]byte("x"), MaxBytes)), ""},
		{"over the cap", write("big.pem", bytes.Repeat([]byte("x"), MaxBytes+1)), "big.pem is larger than 1 MiB"},
		{"a directory", dir, "not a regular file"},
		{"missing", filepath.Join(dir, "none.pem"), "none.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := Read(tt.path)
			if tt.wantErr == "" {
				if err != nil || len(b) != MaxBytes {
					t.Errorf("Read: %d bytes, %v; want %d bytes", len(b), err, MaxBytes)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Read: %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestAppendCerts(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, []byte("not pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := AppendCerts(x509.NewCertPool(), p); !errors.Is(err, ErrNoCertificate) || !strings.Contains(err.Error(), p) {
		t.Errorf("AppendCerts of a file without PEM: %v, want ErrNoCertificate naming %s", err, p)
	}
}
