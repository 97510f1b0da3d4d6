package notify

import (
	"context"
	"net"
	"time"
)

// sessionConn is the connection of one SMTP session. It bounds every read and
// write by the deadline of the current phase — connect (greeting, EHLO, STARTTLS,
// AUTH) or send (MAIL through the end of DATA) — and by ctx's deadline: the go-smtp
// client sets and clears a deadline around each command, which sessionConn caps, so
// neither phase can outlast its timeout.
type sessionConn struct {
	net.Conn
	deadline time.Time
}

// limit starts a phase of at most d, ending no later than ctx's deadline.
func (c *sessionConn) limit(ctx context.Context, d time.Duration) {
	c.deadline = time.Now().Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Before(c.deadline) {
		c.deadline = dl
	}
	_ = c.Conn.SetDeadline(c.deadline)
}

func (c *sessionConn) capped(t time.Time) time.Time {
	if t.IsZero() || t.After(c.deadline) {
		return c.deadline
	}
	return t
}

// SetDeadline sets the deadline, but never later than the phase's.
func (c *sessionConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.capped(t)) }

// SetReadDeadline sets the read deadline, but never later than the phase's.
func (c *sessionConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.capped(t))
}

// SetWriteDeadline sets the write deadline, but never later than the phase's.
func (c *sessionConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.capped(t))
}

// commandConn is the connection right under the go-smtp client (above TLS): it
// remembers the verb of the last command written, which tells a failed greeting
// (nothing written yet) from a failed EHLO or STARTTLS.
type commandConn struct {
	net.Conn
	lastCmd string
}

// Write writes b and notes the command verb it starts with, if any.
func (c *commandConn) Write(b []byte) (int, error) {
	if v := verb(b); v != "" {
		c.lastCmd = v
	}
	return c.Conn.Write(b)
}

// verb returns the leading upper-case word of b when it ends at a space or CRLF.
func verb(b []byte) string {
	i := 0
	for i < len(b) && i <= 8 && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	if i == 0 || i == len(b) || b[i] != ' ' && b[i] != '\r' {
		return ""
	}
	return string(b[:i])
}

// step names the step that failed: "greeting" before any command was written,
// "hello" after EHLO or HELO, "starttls" after STARTTLS, else fallback.
func (c *commandConn) step(fallback string) string {
	switch c.lastCmd {
	case "":
		return "greeting"
	case "EHLO", "HELO":
		return "hello"
	case "STARTTLS":
		return "starttls"
	}
	return fallback
}
