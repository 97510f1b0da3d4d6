package notify

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ruleflow/ruleflow/rules"
)

// The TLS modes of the smtp block (key tls).
const (
	TLSNone     = "none"     // plain SMTP, STARTTLS never attempted
	TLSStartTLS = "starttls" // STARTTLS required; the default
	TLSImplicit = "tls"      // TLS from the first byte, "SMTPS"
)

// Default timeouts of a Mailer.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultSendTimeout    = 60 * time.Second
)

// Mailer sends notification e-mails over SMTP as configured by an smtp block. Each
// Send opens its own connection (dial, optional TLS, EHLO, STARTTLS, AUTH), sends one
// message and quits, so a Mailer keeps no connection state and is safe for concurrent
// use once its exported fields are set; do not change them while Sends run.
type Mailer struct {
	// TLSConfig is used for STARTTLS and implicit TLS. Nil means the system roots and
	// the configured host as server name; a config without ServerName gets the host.
	TLSConfig *tls.Config
	// LocalName is the name sent with EHLO; empty means "localhost".
	LocalName string
	// Logger receives a debug record per message sent and a warning per failure;
	// nil means slog.Default(). The password never appears in them.
	Logger *slog.Logger
	// Now returns the time for the Date header; nil means time.Now.
	Now func() time.Time

	host, from, username, password string
	port                           int
	mode                           string
	connectTimeout, sendTimeout    time.Duration
	configErr                      error // a setting no Send can work with
	idDomain                       string
}

// NewMailer returns a Mailer for cfg. password is the SMTP password in clear, already
// decrypted by the caller (cfg.Password is not read). Unset values take defaults:
// tls starttls, port 587 for starttls, 465 for tls and 25 for none, connect timeout
// 10s, send timeout 60s. A setting no Send can work with (no host, an unknown tls
// mode) makes every Send fail with a permanent *Error of Op "config".
func NewMailer(cfg *rules.SMTP, password string) *Mailer {
	m := &Mailer{password: password}
	if cfg == nil {
		m.configErr = errors.New("no smtp block in the configuration")
		return m
	}
	m.host, m.from, m.username = cfg.Host, cfg.From, cfg.Username
	m.port = cfg.Port
	m.mode = strings.ToLower(strings.TrimSpace(cfg.TLS))
	m.connectTimeout, m.sendTimeout = cfg.ConnectTimeout.Std(), cfg.SendTimeout.Std()
	if m.connectTimeout <= 0 {
		m.connectTimeout = DefaultConnectTimeout
	}
	if m.sendTimeout <= 0 {
		m.sendTimeout = DefaultSendTimeout
	}
	if at := strings.LastIndex(cfg.From, "@"); at >= 0 {
		m.idDomain = strings.Trim(keepAtom(strings.TrimRight(cfg.From[at+1:], "> "), false), ".")
	}
	if m.idDomain == "" {
		m.idDomain = messageIDDomain()
	}
	switch m.mode {
	case "":
		m.mode = TLSStartTLS
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		m.configErr = fmt.Errorf("unknown tls mode %q (want none, starttls or tls)", cfg.TLS)
	}
	if strings.TrimSpace(m.host) == "" && m.configErr == nil {
		m.configErr = errors.New("no smtp host configured")
	}
	if m.port == 0 {
		switch m.mode {
		case TLSImplicit:
			m.port = 465
		case TLSNone:
			m.port = 25
		default:
			m.port = 587
		}
	}
	if m.port < 0 || m.port > 65535 {
		m.configErr = fmt.Errorf("invalid smtp port %d", m.port)
	}
	return m
}

// Addr returns the server address as host:port.
func (m *Mailer) Addr() string { return net.JoinHostPort(m.host, strconv.Itoa(m.port)) }

// Send delivers msg: one SMTP session, from dial to QUIT. The connect timeout bounds
// the dial, TLS handshake, greeting, EHLO, STARTTLS and AUTH; the send timeout bounds
// MAIL FROM through the end of DATA. Cancelling ctx closes the connection at once and
// Send returns an error wrapping ctx.Err().
//
// A failure is an *Error; IsPermanent reports whether retrying can help. A message
// accepted at the end of DATA counts as sent even if QUIT then fails.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	start := m.now()
	err := m.send(ctx, msg, start)
	log := m.Logger
	if log == nil {
		log = slog.Default()
	}
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "notification e-mail not sent",
			slog.String("smtp", m.Addr()), slog.String("subject", msg.Subject),
			slog.Bool("permanent", IsPermanent(err)), slog.String("error", err.Error()))
		return err
	}
	log.LogAttrs(ctx, slog.LevelDebug, "notification e-mail sent",
		slog.String("smtp", m.Addr()), slog.String("subject", msg.Subject),
		slog.Any("to", msg.To), slog.Duration("took", m.now().Sub(start)))
	return nil
}

func (m *Mailer) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Mailer) send(ctx context.Context, msg Message, now time.Time) error {
	if m.configErr != nil {
		return &Error{Op: "config", Err: m.configErr, permanent: true}
	}
	env, err := compose(msg, m.from, now, m.idDomain)
	if err != nil {
		return &Error{Op: "message", Err: err, permanent: true}
	}
	if err := ctx.Err(); err != nil {
		return &Error{Op: "dial", Addr: m.Addr(), Err: err}
	}

	addr := m.Addr()
	dialer := net.Dialer{Timeout: m.connectTimeout}
	raw, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return m.fail(ctx, "dial", "", err)
	}
	// From here on, cancelling ctx closes the connection, which unblocks any read
	// or write in progress; fail then reports ctx.Err().
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	defer raw.Close()

	conn := &sessionConn{Conn: raw}
	conn.limit(ctx, m.connectTimeout)
	var c *smtp.Client
	var cmds *commandConn
	secure := false
	switch m.mode {
	case TLSImplicit:
		tc := tls.Client(conn, m.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return m.fail(ctx, "tls", "", err)
		}
		cmds = &commandConn{Conn: tc}
		c, secure = smtp.NewClient(cmds), true
		if err := c.Hello(m.localName()); err != nil {
			return m.fail(ctx, cmds.step("hello"), "", err)
		}
	case TLSStartTLS:
		// go-smtp reads the greeting, sends EHLO (as "localhost"), checks the
		// STARTTLS extension and sends STARTTLS; the TLS handshake then runs with
		// the EHLO that follows, under our local name.
		cmds = &commandConn{Conn: conn}
		c, err = smtp.NewClientStartTLS(cmds, m.tlsConfig())
		if err != nil {
			op := cmds.step("starttls")
			if op == "hello" && !isSessionError(err) {
				op, err = "starttls", errNoStartTLS // the extension check, not a reply
			}
			return m.fail(ctx, op, "", err)
		}
		secure = true
		if err := c.Hello(m.localName()); err != nil {
			op := "hello"
			if st, _ := c.TLSConnectionState(); !st.HandshakeComplete {
				op = "starttls"
			}
			return m.fail(ctx, op, "", err)
		}
	default:
		cmds = &commandConn{Conn: conn}
		c = smtp.NewClient(cmds)
		if err := c.Hello(m.localName()); err != nil {
			return m.fail(ctx, cmds.step("hello"), "", err)
		}
	}
	if m.username != "" {
		auth, err := m.auth(c, secure)
		if err != nil {
			return m.fail(ctx, "auth", "", err)
		}
		if err := c.Auth(auth); err != nil {
			return m.fail(ctx, "auth", "", err)
		}
	}

	conn.limit(ctx, m.sendTimeout)
	var mailOpts *smtp.MailOptions
	if !isASCII(env.from) || !allASCII(env.to) {
		mailOpts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(env.from, mailOpts); err != nil {
		return m.fail(ctx, "mail", "<"+env.from+">", err)
	}
	for _, rcpt := range env.to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return m.fail(ctx, "rcpt", "<"+rcpt+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return m.fail(ctx, "data", "", err)
	}
	if _, err := w.Write(env.data); err != nil {
		return m.fail(ctx, "data", "", err)
	}
	if err := w.Close(); err != nil { // the server's verdict on the message
		return m.fail(ctx, "data", "", err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted; a failed QUIT does not make it unsent.
		log := m.Logger
		if log == nil {
			log = slog.Default()
		}
		log.LogAttrs(ctx, slog.LevelDebug, "smtp QUIT failed after the message was accepted",
			slog.String("smtp", addr), slog.String("error", m.redact(err.Error())))
	}
	return nil
}

// errNoStartTLS is the failure of tls: starttls with a server that does not offer it.
var errNoStartTLS = errors.New("STARTTLS is required (tls: starttls), but the server does not offer it")

// isSessionError reports whether err is a reply or a connection failure, as opposed
// to a check the go-smtp client made on its own.
func isSessionError(err error) bool {
	if _, ok := errors.AsType[*smtp.SMTPError](err); ok {
		return true
	}
	_, ok := errors.AsType[net.Error](err)
	return ok || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// fail wraps err of step op into an *Error: the reply code of an *smtp.SMTPError, or
// ctx's error when ctx ended (the connection was closed under the step).
func (m *Mailer) fail(ctx context.Context, op, arg string, err error) error {
	e := &Error{Op: op, Addr: m.Addr(), Arg: arg, Err: err}
	if ctxErr := ctx.Err(); ctxErr != nil {
		e.Err = ctxErr
		return e
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		// The connection's deadline is capped at ctx's: a timeout at that instant
		// is ctx's deadline, even if ctx has not noticed yet.
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			e.Err = context.DeadlineExceeded
			return e
		}
	}
	if se, ok := errors.AsType[*smtp.SMTPError](err); ok {
		e.Code = se.Code
	}
	if text := causeText(err); m.redact(text) != text {
		e.Err = &redactedError{text: m.redact(text), err: err}
	}
	return e
}

// redact replaces the password, and the base64 forms a server could echo, by the mask.
func (m *Mailer) redact(s string) string {
	if m.password == "" {
		return s
	}
	for _, secret := range [...]string{
		m.password,
		base64.StdEncoding.EncodeToString([]byte(m.password)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + m.username + "\x00" + m.password)),
	} {
		s = strings.ReplaceAll(s, secret, rules.Masked)
	}
	return s
}

// redactedError is an error whose text had the password masked; Unwrap still gives
// the original for errors.Is/As, whose text must not be printed.
type redactedError struct {
	text string
	err  error
}

// Error returns the masked text.
func (e *redactedError) Error() string { return e.text }

// Unwrap returns the original error.
func (e *redactedError) Unwrap() error { return e.err }

func (m *Mailer) tlsConfig() *tls.Config {
	if m.TLSConfig == nil {
		return &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
	}
	c := m.TLSConfig.Clone()
	if c.ServerName == "" {
		c.ServerName = m.host
	}
	return c
}

func (m *Mailer) localName() string {
	if m.LocalName != "" {
		return m.LocalName
	}
	return "localhost"
}

// auth picks the mechanism from the server's AUTH list, built fresh for this session:
// PLAIN when offered, else LOGIN (both github.com/emersion/go-sasl), else CRAM-MD5.
// PLAIN and LOGIN refuse to send the password over a connection that is neither TLS
// nor to localhost, as net/smtp's PlainAuth did.
func (m *Mailer) auth(c *smtp.Client, secure bool) (sasl.Client, error) {
	ok, list := c.Extension("AUTH")
	if !ok {
		return nil, errors.New("server does not offer AUTH, but a username is configured")
	}
	mechs := strings.Fields(strings.ToUpper(list))
	switch {
	case slices.Contains(mechs, sasl.Plain), slices.Contains(mechs, sasl.Login):
		if !secure && !isLocalhost(m.host) {
			return nil, errors.New("unencrypted connection: PLAIN and LOGIN send the password in clear; use tls: starttls or tls")
		}
		if slices.Contains(mechs, sasl.Plain) {
			return sasl.NewPlainClient("", m.username, m.password), nil
		}
		return sasl.NewLoginClient(m.username, m.password), nil
	case slices.Contains(mechs, "CRAM-MD5"):
		return &cramMD5{username: m.username, secret: m.password}, nil
	}
	return nil, fmt.Errorf("no supported AUTH mechanism among %q (want PLAIN, LOGIN or CRAM-MD5)", list)
}

// cramMD5 is the CRAM-MD5 mechanism (RFC 2195), which go-sasl lacks: the password
// never crosses the wire, so it is allowed without TLS.
type cramMD5 struct {
	username, secret string
}

// Start begins CRAM-MD5, which has no initial response.
func (a *cramMD5) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

// Next answers the server's challenge with the user name and the keyed digest.
func (a *cramMD5) Next(challenge []byte) ([]byte, error) {
	d := hmac.New(md5.New, []byte(a.secret))
	d.Write(challenge)
	return fmt.Appendf(nil, "%s %x", a.username, d.Sum(nil)), nil
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(list []string) bool {
	for _, s := range list {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
