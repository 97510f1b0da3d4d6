package qualification

import (
	"sort"
	"strconv"
	"strings"

	"github.com/ruleflow/ruleflow/qualification/errlist"
)

// Error is a positioned error in a qualification: a syntax error, a binding
// error (unknown field, type mismatch) or a run-time error (division by zero).
type Error struct {
	Offset int    // byte offset of the offending token in Source, starting at 0
	Line   int    // line number, starting at 1
	Column int    // column number in bytes, starting at 1
	Msg    string // the message, naming the offending token
	Source string // the qualification the error refers to
}

// newError returns an Error at byte offset off of src.
func newError(src string, off int, msg string) *Error {
	if off < 0 {
		off = 0
	}
	if off > len(src) {
		off = len(src)
	}
	line := 1 + strings.Count(src[:off], "\n")
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	return &Error{Offset: off, Line: line, Column: off - lineStart + 1, Msg: msg, Source: src}
}

// Position returns the "qualification:LINE:COL" prefix of the error.
func (e *Error) Position() string {
	return "qualification:" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column)
}

// Error returns the message in the form
//
//	qualification:LINE:COL: msg
//	<source line>
//	<spaces>^
//
// The caret line is left out when the error has no source.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Position())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Source == "" {
		return b.String()
	}
	off := min(max(e.Offset, 0), len(e.Source))
	start := strings.LastIndexByte(e.Source[:off], '\n') + 1
	end := strings.IndexByte(e.Source[off:], '\n')
	if end < 0 {
		end = len(e.Source)
	} else {
		end += off
	}
	line := strings.TrimRight(e.Source[start:end], "\r")
	b.WriteByte('\n')
	b.WriteString(line)
	b.WriteByte('\n')
	// Pad with one space per character before the caret, keeping tabs so
	// the caret lines up in a terminal.
	for _, r := range e.Source[start:off] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}

// ErrorList is a list of positioned errors. Its zero value is an empty list
// ready to use.
type ErrorList []*Error

// Add appends e to the list.
func (l *ErrorList) Add(e *Error) { *l = append(*l, e) }

// Len returns the number of errors in the list.
func (l ErrorList) Len() int { return len(l) }

// Sort sorts the list by position, keeping the order of errors at the same position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Offset < l[j].Offset })
}

// Error returns the text of the first error and, when there are more, how many:
// "first (and N more errors)", as go/scanner does. To show every error, range
// over the list (or over Unwrap).
func (l ErrorList) Error() string { return errlist.Text(l) }

// Unwrap returns the errors of the list, so errors.Is and errors.As look at each
// (errors.As(err, &e) with e an *Error finds the first).
func (l ErrorList) Unwrap() []error { return errlist.Unwrap(l) }

// Err returns nil for an empty list and the list itself otherwise, so a caller
// can write errors.As(err, &list) whatever the count.
func (l ErrorList) Err() error { return errlist.Err(l) }
