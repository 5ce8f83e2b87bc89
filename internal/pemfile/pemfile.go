// Package pemfile reads the PEM files the inventory names (CA bundles,
// client certificates and keys) in bounded memory: a file larger than
// MaxBytes, or one that is not a regular file (a FIFO would block the
// read), fails naming the file and the cap instead of being read whole.
package pemfile

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxBytes bounds a PEM file: a CA bundle of every public root is about
// 250 KiB.
const MaxBytes = 1 << 20

// Read returns the contents of the PEM file path, at most MaxBytes.
func Read(path string) ([]byte, error) {
	// Stat before opening: opening a FIFO for reading would wait for a writer.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (want a PEM file)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB, the most a PEM file may hold: is this the right file?", path, MaxBytes>>20)
	}
	return b, nil
}

// ErrNoCertificate is the error of a CA file without a PEM certificate.
var ErrNoCertificate = errors.New("no PEM certificate in it")

// AppendCerts adds the certificates of the PEM file path to pool.
func AppendCerts(pool *x509.CertPool, path string) error {
	b, err := Read(path)
	if err != nil {
		return err
	}
	if !pool.AppendCertsFromPEM(b) {
		return fmt.Errorf("%s: %w", path, ErrNoCertificate)
	}
	return nil
}

// KeyPair is tls.LoadX509KeyPair over Read.
func KeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := Read(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := Read(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cert, key)
}
