package inventory

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
)

// FieldError is one problem in a file: where it is and what is wrong.
//
//	hosts.yaml:14: environments[dmz-eu].hosts[2].docker: scheme "http": want unix:// or tcp://
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
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
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
