package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// FieldError is one problem in a file: where it is and what is wrong.
//
//	hosts.yaml:14: environments[dmz-eu].hosts[2].docker: "http://10.0.0.3:2375": scheme "http": want unix://, tcp:// or npipe://
//
// Line is 0 when the inventory was built in Go rather than read from a file;
// Path is "" for problems with the file as a whole (syntax, empty file).
type FieldError struct {
	File string
	Line int
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	s := e.File
	if s == "" {
		s = "inventory"
	}
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": "
	if e.Path != "" {
		s += e.Path + ": "
	}
	return s + e.Msg
}

// FieldErrors returns every *FieldError in err (as joined by Load, Validate
// or LoadRelease), in file order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) { //nolint:errorlint // walks the wrap tree itself, one level at a time
		case *FieldError:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// joinSorted joins field errors ordered by line then path, so output reads
// top to bottom like the file. nil when there are none.
func joinSorted(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b error) int {
		var fa, fb *FieldError
		if !errors.As(a, &fa) || !errors.As(b, &fb) {
			return 0
		}
		return cmp.Or(cmp.Compare(fa.Line, fb.Line), cmp.Compare(fa.Path, fb.Path))
	})
	return errors.Join(errs...)
}

// problems wraps a joined error of field errors with a count, so a command
// prints "hosts.yaml: 3 problems:" above them. FieldErrors still finds them.
func problems(file string, err error) error {
	n := len(FieldErrors(err))
	if n < 2 {
		return err
	}
	return fmt.Errorf("%s: %d problems:\n%w", file, n, err)
}
