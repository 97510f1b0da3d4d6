package rules

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ruleflow/ruleflow/qualification/errlist"
)

// Position is a place in a configuration file. Line and Column are 1-based; Column
// counts characters (runes), as editors do. A Position with Line 0 names only a file
// (or nothing).
type Position struct {
	File   string
	Line   int
	Column int
}

// IsValid reports whether p carries a line number.
func (p Position) IsValid() bool { return p.Line > 0 }

// String returns p as "file:line:col", "line:col", "file" or "-".
func (p Position) String() string {
	s := p.File
	if p.IsValid() {
		if s != "" {
			s += ":"
		}
		s += strconv.Itoa(p.Line)
		if p.Column > 0 {
			s += ":" + strconv.Itoa(p.Column)
		}
	}
	if s == "" {
		s = "-"
	}
	return s
}

// Error is one problem in a configuration, at a position, with the offending source
// line and a caret under the column (Excerpt; empty when there is no source).
type Error struct {
	Pos     Position
	Msg     string
	Excerpt string
}

// Error returns "file:line:col: message", followed by the excerpt on the next lines.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" || e.Pos.IsValid() {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Excerpt != "" {
		b.WriteByte('\n')
		b.WriteString(e.Excerpt)
	}
	return b.String()
}

// ErrorList is a list of configuration errors. The zero value is an empty list ready
// to use.
type ErrorList []*Error

// Add appends an error with the given position and message.
func (l *ErrorList) Add(pos Position, msg string) {
	*l = append(*l, &Error{Pos: pos, Msg: msg})
}

// Len returns the number of errors.
func (l ErrorList) Len() int { return len(l) }

// Sort orders the list by file, line and column, keeping the order of errors at the
// same position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
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

// source is a file's text with an index of where its lines start.
type source struct {
	name  string
	text  []byte
	lines []int // byte offset of the start of each line
}

func newSource(name string, text []byte) *source {
	s := &source{name: name, text: text, lines: []int{0}}
	for i, c := range text {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// line returns line n (1-based) without its line break.
func (s *source) line(n int) string {
	if n < 1 || n > len(s.lines) {
		return ""
	}
	start := s.lines[n-1]
	end := len(s.text)
	if n < len(s.lines) {
		end = s.lines[n] - 1
	}
	return strings.TrimSuffix(string(s.text[start:end]), "\r")
}

// offset returns the byte offset of the 1-based line and rune column, clamped to the
// line.
func (s *source) offset(line, col int) int {
	if line < 1 {
		return 0
	}
	if line > len(s.lines) {
		return len(s.text)
	}
	off := s.lines[line-1]
	for c := 1; c < col && off < len(s.text) && s.text[off] != '\n'; c++ {
		_, n := utf8.DecodeRune(s.text[off:])
		off += n
	}
	return off
}

// position returns the position of byte offset off.
func (s *source) position(off int) Position {
	if off < 0 {
		off = 0
	}
	if off > len(s.text) {
		off = len(s.text)
	}
	i := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	col := utf8.RuneCount(s.text[s.lines[i]:off]) + 1
	return Position{File: s.name, Line: i + 1, Column: col}
}

// errorAt builds an Error at pos with an excerpt of the source.
func (s *source) errorAt(pos Position, msg string) *Error {
	e := &Error{Pos: pos, Msg: msg}
	if s != nil && pos.IsValid() {
		e.Excerpt = excerpt(maskSecrets(s.line(pos.Line)), pos.Line, pos.Column)
	}
	return e
}

// excerpt renders one source line with its number and a caret under column col.
func excerpt(text string, line, col int) string {
	num := strconv.Itoa(line)
	var caret strings.Builder
	c := 1
	for _, r := range text {
		if c >= col {
			break
		}
		if r == '\t' {
			caret.WriteByte('\t')
		} else {
			caret.WriteByte(' ')
		}
		c++
	}
	for ; c < col; c++ {
		caret.WriteByte(' ')
	}
	return fmt.Sprintf(" %s | %s\n %s | %s^", num, text, strings.Repeat(" ", len(num)), caret.String())
}

// secretKeyRE matches a key that holds a secret and the separator after it;
// urlUserinfoRE matches the user information of a URL. Compiled once: regexps
// are safe for concurrent use.
var (
	secretKeyRE   = regexp.MustCompile(`(?i)(password|passwd|secret|token|api[_-]?key|authorization)["']?\s*:\s*`)
	urlUserinfoRE = regexp.MustCompile(`://([^/@\s]+)@`)
)

// maskSecrets hides what looks like a secret in a source line shown in an excerpt: the
// value of a password, secret or token key, and the user information of a URL. Each
// hidden character becomes '*', so the caret still lines up.
func maskSecrets(line string) string {
	b := []byte(line)
	mask := func(from, to int) {
		for to > from && b[to-1] == ' ' {
			to--
		}
		for i := from; i < to; i++ {
			b[i] = '*'
		}
	}
	for _, m := range secretKeyRE.FindAllStringIndex(line, -1) {
		end := m[1]
		quote := byte(0)
		if end < len(b) && (b[end] == '"' || b[end] == '\'') {
			quote = b[end]
		}
		i := end
		for ; i < len(b); i++ {
			if quote != 0 {
				if i > end && b[i] == quote {
					i++
					break
				}
				continue
			}
			if b[i] == ',' || b[i] == '}' || (b[i] == '#' && i > 0 && b[i-1] == ' ') {
				break
			}
		}
		mask(end, i)
	}
	for _, m := range urlUserinfoRE.FindAllStringSubmatchIndex(line, -1) {
		mask(m[2], m[3])
	}
	return string(b)
}
