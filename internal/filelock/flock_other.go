//go:build !unix

package filelock

import (
	"errors"
	"fmt"
	"os"
)

const oNoFollow = 0

func flock(*os.File) error {
	return fmt.Errorf("file locks: %w", errors.ErrUnsupported)
}

func funlock(*os.File) error { return nil }
