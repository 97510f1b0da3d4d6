package qualification

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// lexer is a hand-written state machine in the style of text/template/parse:
// each state function scans one token and returns the next state. Items are
// appended to a slice; the parser reads them back with a cursor.
type lexer struct {
	src   string
	start int // start of the current token
	pos   int // current position
	items []Item
}

// stateFn is one state of the lexer; it returns the next state, or nil when done.
type stateFn func(*lexer) stateFn

// Lex splits src into tokens. The last item is EOF, or ILLEGAL (whose Val is
// the error message) when src holds a lexical error. Lex never panics.
func Lex(src string) []Item {
	l := &lexer{src: src, items: make([]Item, 0, 8+len(src)/6)}
	for state := lexAny; state != nil; {
		state = state(l)
	}
	return l.items
}

func (l *lexer) emit(t Token, val string) {
	l.items = append(l.items, Item{Tok: t, Pos: l.start, End: l.pos, Val: val})
	l.start = l.pos
}

// errorf emits an ILLEGAL item at offset off and stops the lexer.
func (l *lexer) errorf(off int, msg string) stateFn {
	l.items = append(l.items, Item{Tok: ILLEGAL, Pos: off, End: l.pos, Val: msg})
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isWordByte(c byte) bool {
	return c == '_' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf
}

// lexAny skips white space and dispatches on the first character of a token.
func lexAny(l *lexer) stateFn {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	l.start = l.pos
	if l.pos >= len(l.src) {
		l.emit(EOF, "")
		return nil
	}
	c := l.src[l.pos]
	two := ""
	if l.pos+1 < len(l.src) {
		two = l.src[l.pos : l.pos+2]
	}
	switch {
	case c == '\'':
		return lexField
	case c == '"':
		return lexString
	case c == '$':
		return lexDollar
	case isDigit(c):
		return lexNumber
	case isWordByte(c):
		return lexWord
	}
	// Two-character operators are matched greedily before one-character ones.
	switch two {
	case "&&":
		return l.op(AND, 2)
	case "||":
		return l.op(OR, 2)
	case "!=":
		return l.op(NEQ, 2)
	case "<=":
		return l.op(LEQ, 2)
	case ">=":
		return l.op(GEQ, 2)
	}
	switch c {
	case '(':
		return l.op(LPAREN, 1)
	case ')':
		return l.op(RPAREN, 1)
	case '!':
		return l.op(NOT, 1)
	case '=':
		return l.op(EQL, 1)
	case '<':
		return l.op(LSS, 1)
	case '>':
		return l.op(GTR, 1)
	case '+':
		return l.op(ADD, 1)
	case '-':
		return l.op(SUB, 1)
	case '*':
		return l.op(MUL, 1)
	case '/':
		return l.op(QUO, 1)
	case '%':
		return l.op(REM, 1)
	case '&':
		return l.errorf(l.pos, "unexpected character '&' (use && or AND)")
	case '|':
		return l.errorf(l.pos, "unexpected character '|' (use || or OR)")
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return l.errorf(l.pos, "unexpected character "+strconv.QuoteRune(r))
}

func (l *lexer) op(t Token, n int) stateFn {
	l.pos += n
	l.emit(t, l.src[l.start:l.pos])
	return lexAny
}

// lexQuoted scans a token enclosed in quote characters q, where a doubled q
// stands for one q. It returns the decoded text and whether the closing quote
// was found.
func (l *lexer) lexQuoted(q byte) (string, bool) {
	l.pos++ // opening quote
	var b strings.Builder
	seg := l.pos
	for l.pos < len(l.src) {
		if l.src[l.pos] != q {
			l.pos++
			continue
		}
		if l.pos+1 < len(l.src) && l.src[l.pos+1] == q { // doubled quote
			b.WriteString(l.src[seg : l.pos+1])
			l.pos += 2
			seg = l.pos
			continue
		}
		if b.Len() == 0 {
			s := l.src[seg:l.pos]
			l.pos++
			return s, true
		}
		b.WriteString(l.src[seg:l.pos])
		l.pos++
		return b.String(), true
	}
	return "", false
}

// lexField scans a field reference 'Name'.
func lexField(l *lexer) stateFn {
	name, ok := l.lexQuoted('\'')
	if !ok {
		return l.errorf(l.start, "unterminated field reference "+abbrev(l.src[l.start:]))
	}
	if name == "" {
		return l.errorf(l.start, "empty field reference ''")
	}
	l.emit(FIELD, name)
	return lexAny
}

// lexString scans a string literal "text".
func lexString(l *lexer) stateFn {
	s, ok := l.lexQuoted('"')
	if !ok {
		return l.errorf(l.start, "unterminated string "+abbrev(l.src[l.start:]))
	}
	l.emit(STRING, s)
	return lexAny
}

// lexDollar scans a keyword or field-value reference $Name$.
func lexDollar(l *lexer) stateFn {
	end := strings.IndexAny(l.src[l.pos+1:], "$\n")
	if end < 0 || l.src[l.pos+1+end] != '$' {
		return l.errorf(l.start, "unterminated $...$ token "+abbrev(l.src[l.start:]))
	}
	name := l.src[l.pos+1 : l.pos+1+end]
	l.pos += end + 2
	if strings.TrimSpace(name) == "" {
		return l.errorf(l.start, "empty keyword "+l.src[l.start:l.pos])
	}
	l.emit(DOLLAR, name)
	return lexAny
}

// lexNumber scans an unsigned integer or decimal number.
func lexNumber(l *lexer) stateFn {
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	}
	l.emit(NUMBER, l.src[l.start:l.pos])
	return lexAny
}

// lexWord scans a bare word: an operator word (case-insensitive) or an IDENT,
// which the parser rejects with a hint to quote the field name.
func lexWord(l *lexer) stateFn {
	for l.pos < len(l.src) && isWordByte(l.src[l.pos]) {
		l.pos++
	}
	w := l.src[l.start:l.pos]
	switch strings.ToUpper(w) {
	case "AND":
		l.emit(AND, w)
	case "OR":
		l.emit(OR, w)
	case "NOT":
		l.emit(NOT, w)
	case "LIKE":
		l.emit(LIKE, w)
	default:
		l.emit(IDENT, w)
	}
	return lexAny
}

// abbrev returns s, shortened to at most 24 bytes with an ellipsis.
func abbrev(s string) string {
	if len(s) <= 24 {
		return s
	}
	cut := 24
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
