package errlist_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ruleflow/ruleflow/qualification/errlist"
)

type posError struct{ pos, msg string }

func (e *posError) Error() string { return e.pos + ": " + e.msg }

type list []*posError

func (l list) Error() string   { return errlist.Text(l) }
func (l list) Unwrap() []error { return errlist.Unwrap(l) }
func (l list) Err() error      { return errlist.Err(l) }

func TestContract(t *testing.T) {
	var l list
	if l.Err() != nil || l.Error() != "no errors" {
		t.Fatalf("zero list: Err() = %v, Error() = %q", l.Err(), l.Error())
	}
	l = append(l, &posError{"f:1:2", "first"})
	if got := l.Err().Error(); got != "f:1:2: first" {
		t.Errorf("one error: %q", got)
	}
	if _, ok := l.Err().(list); !ok {
		t.Errorf("Err() of one error is %T, want the list", l.Err())
	}
	l = append(l, &posError{"f:3:4", "second"}, &posError{"f:5:6", "third"})
	tests := []struct{ got, want string }{
		{l.Error(), "f:1:2: first (and 2 more errors)"},
		{fmt.Sprint(len(l.Unwrap())), "3"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	wrapped := fmt.Errorf("loading: %w", l.Err())
	var back list
	var first *posError
	if !errors.As(wrapped, &back) || len(back) != 3 {
		t.Errorf("errors.As(list) through wrapping failed: %v", back)
	}
	if !errors.As(wrapped, &first) || first.msg != "first" {
		t.Errorf("errors.As(element) found %v, want the first", first)
	}
}
