// Package errlist holds the one implementation of the error-list contract that
// qualification.ErrorList, rules.ErrorList and notify.ErrorList share, go/scanner's:
// the zero value is ready; Err returns the list, or nil when it is empty (never a
// bare element); Error prints the first error and the count, "first (and N more
// errors)"; Unwrap returns every element, so errors.As finds the list or its first
// element through wrapping.
//
// Each package keeps its own ErrorList type, because each element type carries a
// different position (an offset in a qualification, a file:line:col in a
// configuration, a template file and line in a notification), and its methods call
// these functions. It lives under qualification, the bottom of the import graph, so
// that every package may import it (the top-level layout is fixed, so there is no
// internal/ directory).
package errlist

import "fmt"

// Text returns the text of the first error of l and, when there are more, how many:
// "first (and N more errors)"; "no errors" for an empty list.
func Text[E error](l []E) string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Unwrap returns the elements of l as errors, for errors.Is and errors.As.
func Unwrap[E error](l []E) []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Err returns nil for an empty list and the list itself otherwise, so a caller can
// write errors.As(err, &list) whatever the count.
func Err[L interface {
	~[]E
	error
}, E error](l L) error {
	if len(l) == 0 {
		return nil
	}
	return l
}
