package notify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
	"github.com/ruleflow/ruleflow/qualification/errlist"
)

// ConfigError is one problem in a notify block. Source names where it is: a
// configuration field ("notify.to[1]", "notify.subject") or a template file path;
// Line and Col locate it inside a template when known (0 otherwise).
type ConfigError struct {
	Source string
	Line   int
	Col    int
	Msg    string
}

// Error formats the error as "source:line:col: msg", leaving out what is unknown.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Col))
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is a list of *ConfigError. The zero value is an empty list ready to use.
type ErrorList []*ConfigError

// Add appends a ConfigError for source, line and col with message msg.
func (l *ErrorList) Add(source string, line, col int, msg string) {
	*l = append(*l, &ConfigError{Source: source, Line: line, Col: col, Msg: msg})
}

// Error returns the text of the first error and, when there are more, how many:
// "first (and N more errors)", as go/scanner does. To show every error, range
// over the list (or over Unwrap).
func (l ErrorList) Error() string { return errlist.Text(l) }

// Unwrap returns the errors of the list, so errors.Is and errors.As look at each
// (errors.As(err, &e) with e a *ConfigError finds the first).
func (l ErrorList) Unwrap() []error { return errlist.Unwrap(l) }

// Err returns nil for an empty list and the list itself otherwise, so a caller
// can write errors.As(err, &list) whatever the count.
func (l ErrorList) Err() error { return errlist.Err(l) }

// templateError turns an error of text/template or html/template about the template
// named name into a ConfigError positioned at source:line:col.
func templateError(source, name string, err error) *ConfigError {
	msg := err.Error()
	for _, prefix := range [...]string{"template: ", "html/template:"} {
		if strings.HasPrefix(msg, prefix) {
			msg = msg[len(prefix):]
			break
		}
	}
	line, col := 0, 0
	if rest, ok := strings.CutPrefix(msg, name+":"); ok {
		msg = rest
		line, msg = leadingNumber(msg)
		if line > 0 {
			col, msg = leadingNumber(msg)
		}
		msg = strings.TrimPrefix(msg, " ")
	}
	return &ConfigError{Source: source, Line: line, Col: col, Msg: budgetMessage(msg)}
}

// leadingNumber parses "12:rest" or "12: rest" into 12 and the text after the colon;
// without a leading number it returns 0 and s unchanged.
func leadingNumber(s string) (int, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) || s[i] != ':' {
		return 0, s
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, s
	}
	return n, s[i+1:]
}

// Error is a failed Send: the SMTP step that failed, the server, and the server's
// reply code when it sent one. Its text never contains the SMTP password.
type Error struct {
	// Op is the step: "config", "message", "dial", "tls", "greeting", "hello",
	// "starttls", "auth", "mail", "rcpt", "data" or "quit".
	Op string
	// Addr is the server as host:port (empty for "message" and "config" errors).
	Addr string
	// Arg is the step's argument when it helps, such as the recipient of "rcpt".
	Arg string
	// Code is the SMTP reply code, 0 when the failure was not a reply.
	Code int
	// Err is the underlying error; for a reply it is a *smtp.SMTPError
	// (github.com/emersion/go-smtp).
	Err error

	permanent bool // a failure no retry can fix, apart from 5xx replies
}

// Error formats e as "smtp ADDR: OP ARG: cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("smtp")
	if e.Addr != "" {
		b.WriteByte(' ')
		b.WriteString(e.Addr)
	}
	b.WriteString(": ")
	b.WriteString(e.Op)
	if e.Arg != "" {
		b.WriteByte(' ')
		b.WriteString(e.Arg)
	}
	b.WriteString(": ")
	b.WriteString(causeText(e.Err))
	return b.String()
}

// causeText writes an SMTP reply as "550 5.1.1 text"; a reply that holds control
// characters is quoted.
func causeText(err error) string {
	se, ok := err.(*smtp.SMTPError)
	if !ok {
		return err.Error()
	}
	msg := strings.ReplaceAll(se.Message, "\n", " ")
	for _, r := range msg {
		if r < ' ' || r == 0x7f {
			msg = strconv.Quote(msg)
			break
		}
	}
	if ec := se.EnhancedCode; ec != smtp.EnhancedCodeNotSet && ec != smtp.NoEnhancedCode {
		return fmt.Sprintf("%03d %d.%d.%d %s", se.Code, ec[0], ec[1], ec[2], msg)
	}
	return fmt.Sprintf("%03d %s", se.Code, msg)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether retrying cannot help: a 5xx reply, or a message or
// configuration that can never be sent.
func (e *Error) Permanent() bool { return e.permanent || e.Code >= 500 && e.Code <= 599 }

// IsPermanent reports whether err is a permanent SMTP failure: a 5xx reply from the
// server (the job should be stored as failed with the server's reply), or a message
// or configuration that can never be sent. Connection refused, timeouts, TLS
// problems, cancellation and 4xx replies are temporary: retry with backoff.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Permanent()
	}
	if se, ok := errors.AsType[*smtp.SMTPError](err); ok {
		return se.Code >= 500 && se.Code <= 599
	}
	return false
}
