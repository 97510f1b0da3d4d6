package notify

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/go-mail/mail/v2"

	"github.com/ruleflow/ruleflow/rules"
)

// The TLS modes of the smtp block (key tls).
const (
	TLSNone     = "none"     // plain SMTP, STARTTLS never attempted (go-mail NoStartTLS)
	TLSStartTLS = "starttls" // STARTTLS required (go-mail MandatoryStartTLS); the default
	TLSImplicit = "tls"      // TLS from the first byte, "SMTPS" (go-mail SSL)
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

// policy maps the tls mode to go-mail's terms: implicit TLS, or a STARTTLS policy.
func (m *Mailer) policy() (implicit bool, startTLS gomail.StartTLSPolicy) {
	switch m.mode {
	case TLSImplicit:
		return true, gomail.NoStartTLS
	case TLSNone:
		return false, gomail.NoStartTLS
	}
	return false, gomail.MandatoryStartTLS
}

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
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return m.fail(ctx, "dial", "", err)
	}
	// From here on, cancelling ctx closes the connection, which unblocks any read
	// or write in progress; fail then reports ctx.Err().
	raw := conn
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	defer raw.Close()

	_ = conn.SetDeadline(time.Now().Add(m.connectTimeout))
	implicit, startTLS := m.policy()
	if implicit {
		tc := tls.Client(conn, m.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return m.fail(ctx, "tls", "", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return m.fail(ctx, "greeting", "", err)
	}
	if err := c.Hello(m.localName()); err != nil {
		return m.fail(ctx, "hello", "", err)
	}
	if startTLS == gomail.MandatoryStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return m.fail(ctx, "starttls", "", gomail.StartTLSUnsupportedError{Policy: startTLS})
		}
		if err := c.StartTLS(m.tlsConfig()); err != nil {
			return m.fail(ctx, "starttls", "", err)
		}
	}
	if m.username != "" {
		auth, err := m.auth(c)
		if err != nil {
			return m.fail(ctx, "auth", "", err)
		}
		if err := c.Auth(auth); err != nil {
			return m.fail(ctx, "auth", "", err)
		}
	}

	_ = conn.SetDeadline(time.Now().Add(m.sendTimeout))
	if err := c.Mail(env.from); err != nil {
		return m.fail(ctx, "mail", "<"+env.from+">", err)
	}
	for _, rcpt := range env.to {
		if err := c.Rcpt(rcpt); err != nil {
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

// fail wraps err of step op into an *Error: the reply code of a *textproto.Error, or
// ctx's error when ctx ended (the connection was closed under the step).
func (m *Mailer) fail(ctx context.Context, op, arg string, err error) error {
	e := &Error{Op: op, Addr: m.Addr(), Arg: arg, Err: err}
	if ctxErr := ctx.Err(); ctxErr != nil {
		e.Err = ctxErr
		return e
	}
	if tp, ok := errors.AsType[*textproto.Error](err); ok {
		e.Code = tp.Code
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

// auth picks the mechanism from the server's AUTH list, built fresh for this session
// (go-mail's Dialer fills its Auth lazily, which races when shared): PLAIN when
// offered, else LOGIN, else CRAM-MD5. PLAIN and LOGIN refuse to send the password
// over a connection that is neither TLS nor to localhost.
func (m *Mailer) auth(c *smtp.Client) (smtp.Auth, error) {
	ok, list := c.Extension("AUTH")
	if !ok {
		return nil, errors.New("server does not offer AUTH, but a username is configured")
	}
	mechs := strings.Fields(strings.ToUpper(list))
	has := func(name string) bool {
		for _, x := range mechs {
			if x == name {
				return true
			}
		}
		return false
	}
	switch {
	case has("PLAIN"):
		return smtp.PlainAuth("", m.username, m.password, m.host), nil
	case has("LOGIN"):
		return &loginAuth{username: m.username, password: m.password, host: m.host}, nil
	case has("CRAM-MD5"):
		return smtp.CRAMMD5Auth(m.username, m.password), nil
	}
	return nil, fmt.Errorf("no supported AUTH mechanism among %q (want PLAIN, LOGIN or CRAM-MD5)", list)
}

// loginAuth is the LOGIN mechanism (draft-murchison-sasl-login), which net/smtp lacks.
type loginAuth struct {
	username, password, host string
}

// Start begins LOGIN, refusing an unencrypted connection other than to localhost, as
// smtp.PlainAuth does.
func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

// Next answers the server's "Username:" and "Password:" challenges.
func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:", "user name", "username":
		return []byte(a.username), nil
	case "password:", "password":
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}
