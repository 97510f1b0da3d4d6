// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on a
// loopback address for tests, as net/http/httptest does for HTTP: the one test mail
// server of the notify, engine and cmd/ruleflow tests.
//
// A test starts a Server with the behaviour it needs (options: authentication,
// STARTTLS or implicit TLS, replies to RCPT and DATA, a stalling DATA), points an
// smtp block at Host and Port, and reads back the Messages the server accepted.
// The server stops when the test ends.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message as the server saw it.
type Message struct {
	From string   // MAIL FROM
	To   []string // RCPT TO
	Data []byte   // DATA
	User string   // the authenticated user, "" without AUTH
	TLS  bool     // whether the session was encrypted
}

// Server is a running test SMTP server.
type Server struct {
	// Host and Port are where it listens (Host is a loopback address).
	Host string
	Port int

	listen     string
	implicit   *tls.Certificate
	user, pass string   // when set, AUTH is offered and required
	mechs      []string // offered mechanisms; default PLAIN
	dataErrs   []error  // replies to the first DATA commands, in order; nil accepts
	rcptErr    error    // reply to every RCPT
	echo       bool     // a careless server: the AUTH failure reply repeats the password
	stall      chan struct{}
	stalled    chan struct{}
	dataDelay  time.Duration

	mu       sync.Mutex
	msgs     []Message
	dataSeen int
}

// Option configures a Server before it starts.
type Option func(*Server, *smtp.Server)

// WithAuth offers and requires AUTH with user and pass, by the mechanisms mechs
// (sasl.Plain and sasl.Login are served; default PLAIN).
func WithAuth(user, pass string, mechs ...string) Option {
	return func(ts *Server, s *smtp.Server) {
		ts.user, ts.pass = user, pass
		ts.mechs = mechs
		if len(mechs) == 0 {
			ts.mechs = []string{sasl.Plain}
		}
	}
}

// WithEchoingAuth is WithAuth by PLAIN, with AUTH failures that repeat the password
// the client sent (a careless server, to check that clients mask it).
func WithEchoingAuth(user, pass string) Option {
	return func(ts *Server, s *smtp.Server) {
		WithAuth(user, pass)(ts, s)
		ts.echo = true
	}
}

// WithDataErrors answers the first DATA commands with errs, in order (a nil entry
// accepts the message); later ones are accepted.
func WithDataErrors(errs ...error) Option {
	return func(ts *Server, s *smtp.Server) { ts.dataErrs = errs }
}

// WithRcptError answers every RCPT with err.
func WithRcptError(err error) Option {
	return func(ts *Server, s *smtp.Server) { ts.rcptErr = err }
}

// WithStartTLS offers STARTTLS with cert.
func WithStartTLS(cert tls.Certificate) Option {
	return func(ts *Server, s *smtp.Server) {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
}

// WithImplicitTLS makes it an SMTPS server: TLS from the first byte, with cert.
func WithImplicitTLS(cert tls.Certificate) Option {
	return func(ts *Server, s *smtp.Server) { ts.implicit = &cert }
}

// WithStallingData makes DATA block until the test ends; Stalled receives when a
// DATA starts stalling.
func WithStallingData() Option {
	return func(ts *Server, s *smtp.Server) {
		ts.stall = make(chan struct{})
		ts.stalled = make(chan struct{}, 16)
	}
}

// WithDataDelay makes the server wait d after the message before it answers DATA
// (a slow server; the test's end cuts the wait short).
func WithDataDelay(d time.Duration) Option {
	return func(ts *Server, s *smtp.Server) {
		ts.dataDelay = d
		if ts.stall == nil {
			ts.stall = make(chan struct{})
		}
	}
}

// WithHost listens on the loopback address host instead of 127.0.0.1.
func WithHost(host string) Option {
	return func(ts *Server, s *smtp.Server) { ts.listen = host }
}

// Start starts a server on a free loopback port; it stops when t ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ts := &Server{listen: "127.0.0.1"}
	s := smtp.NewServer(backend{ts})
	s.Domain = "mx.test"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = true // loopback tests without TLS
	s.ErrorLog = log.New(io.Discard, "", 0)
	for _, o := range opts {
		o(ts, s)
	}
	if ip := net.ParseIP(ts.listen); ip == nil || !ip.IsLoopback() {
		t.Fatalf("smtptest: %q is not a loopback address", ts.listen)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ts.listen, "0"))
	if err != nil {
		t.Fatal(err)
	}
	if ts.implicit != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*ts.implicit}})
	}
	ts.Host = ts.listen
	ts.Port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ln)
	}()
	t.Cleanup(func() {
		if ts.stall != nil {
			close(ts.stall)
		}
		s.Close()
		<-done
	})
	return ts
}

// Addr returns host:port.
func (ts *Server) Addr() string { return net.JoinHostPort(ts.Host, strconv.Itoa(ts.Port)) }

// Messages returns the messages accepted so far.
func (ts *Server) Messages() []Message {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]Message(nil), ts.msgs...)
}

// DataCommands counts the DATA commands received, accepted or not.
func (ts *Server) DataCommands() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.dataSeen
}

// Stalled receives each time a DATA starts stalling (WithStallingData).
func (ts *Server) Stalled() <-chan struct{} { return ts.stalled }

type backend struct{ ts *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := &session{ts: b.ts, conn: c}
	if b.ts.user != "" {
		return &authSession{s}, nil
	}
	return s, nil
}

type session struct {
	ts   *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.ts.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ts.rcptErr != nil {
		return s.ts.rcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.ts.stalled != nil {
		s.ts.stalled <- struct{}{}
		<-s.ts.stall
		return errors.New("stalled")
	}
	if s.ts.dataDelay > 0 {
		select {
		case <-time.After(s.ts.dataDelay):
		case <-s.ts.stall:
		}
	}
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	n := s.ts.dataSeen
	s.ts.dataSeen++
	if n < len(s.ts.dataErrs) && s.ts.dataErrs[n] != nil {
		return s.ts.dataErrs[n]
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ts.msgs = append(s.ts.msgs, Message{From: s.from, To: s.to, Data: data, User: s.user, TLS: isTLS})
	return nil
}

// authSession adds AUTH PLAIN (go-sasl) and LOGIN to a session.
type authSession struct{ *session }

func (s *authSession) AuthMechanisms() []string { return s.ts.mechs }

func (s *authSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.ts.user || pass != s.ts.pass {
			msg := "Authentication credentials invalid"
			if s.ts.echo {
				msg += " for " + user + "/" + pass
			}
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: msg}
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of AUTH LOGIN, which go-sasl no longer ships.
type loginServer struct {
	check      func(user, pass string) error
	step       int
	user, pass string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) > 0 { // initial response carries the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(response)
		l.step++
		return []byte("Password:"), false, nil
	default:
		l.pass = string(response)
		return nil, true, l.check(l.user, l.pass)
	}
}

// SelfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func SelfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ruleflow test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Parsed is a received message taken apart.
type Parsed struct {
	Header  mail.Header
	Subject string // decoded
	Text    string // the text/plain part, decoded, with LF line ends
	HTML    string // the text/html part, decoded, with LF line ends
}

// Parse decodes an RFC 5322 message: a text/plain body, or a multipart/alternative
// with text and HTML parts, quoted-printable or not. Anything else fails t.
func Parse(t testing.TB, data []byte) Parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject: %v", err)
	}
	p := Parsed{Header: m.Header, Subject: subject}
	decode := func(h interface{ Get(string) string }, r io.Reader) string {
		if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read body: %v", err)
		}
		return strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	switch mediaType {
	case "text/plain":
		p.Text = decode(m.Header, m.Body)
		return p
	case "multipart/alternative":
	default:
		t.Fatalf("Content-Type = %q, want multipart/alternative or text/plain", mediaType)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable itself
		if errors.Is(err, io.EOF) {
			return p
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			p.Text = decode(part.Header, part)
		case "text/html":
			p.HTML = decode(part.Header, part)
		default:
			t.Fatalf("unexpected part %q", ct)
		}
	}
}
